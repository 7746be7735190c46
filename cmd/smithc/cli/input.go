package cli

import (
	"errors"
	"io/fs"
	"os"
	goruntime "runtime"
	"sort"
	"strconv"
	"strings"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/schema"
)

// largeInputFile is the size of an --input-file after whose decoding a
// collection pays for itself.
const largeInputFile = 1 << 20

// readInputs builds a workflow's input from --input-file (JSON) and then
// --input k=v pairs, each coerced by the field's type ("n=3" is an int
// for an int field). The result is validated and defaulted against the
// schema, after the defaults that read the environment (env("X")) are
// filled in; every problem is a usage error naming the field.
func readInputs(wf *ir.Workflow, file string, pairs []string) (map[string]any, error) {
	t := wf.Input
	in := map[string]any{}
	if file != "" {
		f, err := os.Open(file)
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // "no such file or directory": the path is said already
		}
		if err != nil {
			return nil, exitf(ExitUsage, "--input-file %s: %v", file, err)
		}
		defer f.Close()
		fi, err := f.Stat()
		if err == nil && fi.IsDir() {
			return nil, exitf(ExitUsage, "--input-file %s is a directory: give a file holding one JSON object of inputs", file)
		}
		v, err := schema.DecodeJSONFrom(f)
		if err == nil && fi != nil && fi.Size() >= largeInputFile {
			// The decoder's buffers (about twice the file) are garbage now:
			// collected here, the input's encoding and the store's write
			// reuse their memory instead of growing the heap (a 10 MB input:
			// peak RSS 93 -> 83 MB).
			goruntime.GC()
		}
		if err != nil {
			return nil, exitf(ExitUsage, "--input-file %s: %v; it must hold one JSON object of inputs ({\"name\": value})", file, err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return nil, exitf(ExitUsage, "--input-file %s: the document is %s, not an object; it must hold one JSON object of inputs ({\"name\": value})", file, withArticle(schema.Describe(v)))
		}
		in = m
	}
	for _, kv := range pairs {
		k, v, ok := strings.Cut(kv, "=")
		if !ok || k == "" {
			return nil, exitf(ExitUsage, "--input %q: want name=value", kv)
		}
		f := t.Field(k)
		if f == nil {
			return nil, exitf(ExitUsage, "--input %s: the workflow has no input %q; its inputs are: %s", kv, k, fieldList(t))
		}
		val, err := schema.Coerce(f.Type, v, "input."+k)
		if err != nil {
			return nil, exitf(ExitUsage, "--input %s: %v", kv, err)
		}
		in[k] = val
	}
	for k := range in {
		if t.Field(k) == nil {
			return nil, exitf(ExitUsage, "input %q is not declared by the workflow; its inputs are: %s", k, fieldList(t))
		}
	}
	if err := wf.ApplyInputDefaults(in, os.LookupEnv); err != nil {
		return nil, exitf(ExitUsage, "%v", err)
	}
	norm, err := schema.Normalize(t, in, "input")
	if err != nil {
		return nil, exitf(ExitUsage, "invalid input: %v", err)
	}
	m, _ := norm.(map[string]any)
	return m, nil
}

func fieldList(t *schema.Type) string {
	if len(t.Fields) == 0 {
		return "(none)"
	}
	names := make([]string, 0, len(t.Fields))
	for _, f := range t.Fields {
		s := f.Name
		if f.Optional {
			s += "?"
		}
		s += ": " + f.Type.String()
		switch {
		case f.HasDefault:
			// As the source writes it: a string quoted, anything else as JSON.
			d, ok := f.Default.(string)
			if ok {
				d = strconv.Quote(d)
			} else {
				d = schema.Text(f.Default)
			}
			s += " (default " + d + ")"
		case !f.Optional:
			s += " (required)"
		}
		names = append(names, s)
	}
	sort.Strings(names)
	return strings.Join(names, ", ")
}

// withArticle puts "a" or "an" before a value's description ("a list",
// "an int 3"), but not before null.
func withArticle(d string) string {
	switch {
	case d == "null":
		return d
	case strings.ContainsAny(d[:1], "aeiou"):
		return "an " + d
	}
	return "a " + d
}
