package cli

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/format"
)

func (a *app) newFmtCmd() *cobra.Command {
	var check, showDiff bool
	cmd := &cobra.Command{
		Use:   "fmt [--check] [--diff] FILE...|DIR...",
		Short: "Rewrite .smw files in the canonical layout",
		Long: `Rewrite .smw files in the canonical layout: two-space indentation, the "="
of consecutive attributes aligned, one blank line between nodes, comments
kept where they are, expressions and strings unchanged. A directory means
every .smw file below it.

With --check nothing is written: the files that would change are listed
and the exit status is 1 if there is any. With --diff nothing is written
either: the changes are printed as a unified diff. A file that does not
parse is reported as check reports it, and left as it is.
Exit status: 0 when every file is (now) formatted, 1 when --check found a
file to change or a file did not parse, 2 on usage errors.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			files, err := smwFiles(args)
			if err != nil {
				return err
			}
			failed := false
			for _, file := range files {
				src, err := os.ReadFile(file)
				if err != nil {
					fmt.Fprintf(a.stderr, "%s: cannot read: %v\n", file, pathErr(err))
					failed = true
					continue
				}
				out, ds := format.Source(file, src)
				if ds.HasErrors() {
					diag.Fprint(a.stderr, diag.Sources{file: src}, ds)
					errs := 0
					for _, d := range ds {
						if d.Severity == diag.Error {
							errs++
						}
					}
					fmt.Fprintf(a.stderr, "%s\n", plural(errs, "error"))
					failed = true
					continue
				}
				if bytes.Equal(src, out) {
					continue
				}
				switch {
				case showDiff:
					writeUnifiedDiff(a.stdout, file, string(src), string(out))
					failed = failed || check
				case check:
					fmt.Fprintln(a.stdout, file)
					failed = true
				default:
					if err := writeFileAtomic(file, out); err != nil {
						fmt.Fprintf(a.stderr, "%s: cannot write: %v\n", file, pathErr(err))
						failed = true
					}
				}
			}
			if failed {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "write nothing; list the files that would change and exit 1 if any")
	cmd.Flags().BoolVar(&showDiff, "diff", false, "write nothing; print the changes as a unified diff")
	return cmd
}

// smwFiles expands the arguments: a file stands for itself, a directory
// for every .smw file below it (in lexical order, hidden directories
// skipped).
func smwFiles(args []string) ([]string, error) {
	var files []string
	for _, arg := range args {
		st, err := os.Stat(arg)
		if err != nil {
			return nil, exitf(ExitUsage, "%s: %v", arg, pathErr(err))
		}
		if !st.IsDir() {
			files = append(files, arg)
			continue
		}
		var found []string
		err = filepath.WalkDir(arg, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() && path != arg && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir
			}
			if !d.IsDir() && strings.HasSuffix(path, ".smw") {
				found = append(found, path)
			}
			return nil
		})
		if err != nil {
			return nil, exitf(ExitFailed, "%s: %v", arg, pathErr(err))
		}
		sort.Strings(found)
		files = append(files, found...)
	}
	return files, nil
}

// pathErr drops the operation and path that an *fs.PathError repeats.
func pathErr(err error) error {
	if pe, ok := err.(*fs.PathError); ok {
		return pe.Err
	}
	return err
}

// writeFileAtomic replaces file with data through a temporary file in the
// same directory, keeping the file's permissions: a crash leaves either
// the old or the new text, never half of it.
func writeFileAtomic(file string, data []byte) error {
	st, err := os.Stat(file)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), "."+filepath.Base(file)+".fmt*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(st.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), file)
}

// writeUnifiedDiff prints the change from a to b as a unified diff with
// three lines of context, as diff -u does.
func writeUnifiedDiff(w io.Writer, name, a, b string) {
	x, y := splitLines(a), splitLines(b)
	ops := diffLines(x, y)
	fmt.Fprintf(w, "--- %s\n+++ %s (formatted)\n", name, name)
	const context = 3
	for i := 0; i < len(ops); {
		if ops[i].kind == ' ' {
			i++
			continue
		}
		// A hunk: from context lines before the change to context lines
		// after the last change that is at most 2*context lines away.
		start := max(0, i-context)
		end := i
		for j := i; j < len(ops); j++ {
			if ops[j].kind != ' ' {
				end = j + 1
			} else if j-end >= 2*context {
				break
			}
		}
		end = min(len(ops), end+context)
		ax, ay := ops[start].ax, ops[start].by
		na, nb := 0, 0
		for _, op := range ops[start:end] {
			if op.kind != '+' {
				na++
			}
			if op.kind != '-' {
				nb++
			}
		}
		fmt.Fprintf(w, "@@ -%s +%s @@\n", hunkRange(ax, na), hunkRange(ay, nb))
		for _, op := range ops[start:end] {
			text := op.text
			fmt.Fprintf(w, "%c%s\n", op.kind, strings.TrimSuffix(text, "\n"))
			if !strings.HasSuffix(text, "\n") {
				fmt.Fprintln(w, `\ No newline at end of file`)
			}
		}
		i = end
	}
}

func hunkRange(start, n int) string {
	if n == 0 {
		return fmt.Sprintf("%d,0", start)
	}
	if n == 1 {
		return fmt.Sprintf("%d", start+1)
	}
	return fmt.Sprintf("%d,%d", start+1, n)
}

func splitLines(s string) []string {
	if s == "" {
		return nil
	}
	lines := strings.SplitAfter(s, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// diffOp is one line of a diff: ' ' kept, '-' removed, '+' added; ax and
// by are the line's index (or where it would be) in a and b.
type diffOp struct {
	kind   byte
	text   string
	ax, by int
}

// diffLines is a longest-common-subsequence line diff; .smw files are
// small enough for its quadratic table.
func diffLines(a, b []string) []diffOp {
	n, m := len(a), len(b)
	lcs := make([][]int32, n+1)
	for i := range lcs {
		lcs[i] = make([]int32, m+1)
	}
	for i := n - 1; i >= 0; i-- {
		for j := m - 1; j >= 0; j-- {
			if a[i] == b[j] {
				lcs[i][j] = lcs[i+1][j+1] + 1
			} else {
				lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
			}
		}
	}
	var ops []diffOp
	i, j := 0, 0
	for i < n || j < m {
		switch {
		case i < n && j < m && a[i] == b[j]:
			ops = append(ops, diffOp{' ', a[i], i, j})
			i++
			j++
		case i < n && (j == m || lcs[i+1][j] >= lcs[i][j+1]):
			ops = append(ops, diffOp{'-', a[i], i, j})
			i++
		default:
			ops = append(ops, diffOp{'+', b[j], i, j})
			j++
		}
	}
	return ops
}
