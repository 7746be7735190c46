package stdlib

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// maxLoggedCommand caps the script text a ShellCommand event carries.
const maxLoggedCommand = 64 << 10

// shellAction runs `run = "..."` with the shell or `exec = [...]` directly.
type shellAction struct{ cfg Config }

// Run implements runtime.Action.
func (s shellAction) Run(ctx context.Context, a *runtime.Attempt) (any, error) {
	dir, err := stepDir(a)
	if err != nil {
		return nil, err
	}
	env, err := stepEnv(a, s.cfg.environFor(a))
	if err != nil {
		return nil, err
	}
	allow, err := evalBool(a, "allow_failure")
	if err != nil {
		return nil, err
	}
	spec := procSpec{Dir: dir, Env: env}
	switch {
	case a.Step.Args["run"] != nil:
		script, err := renderScript(a, a.Step.Args["run"])
		if err != nil {
			return nil, err
		}
		spec.Path = s.cfg.shell()
		spec.Args = []string{spec.Path, "-c", script}
		a.Log("ShellCommand", map[string]any{"run": shorten(a.Secrets.Redact(script), maxLoggedCommand), "dir": dir})
	case a.Step.Args["exec"] != nil:
		argv, err := execArgv(a)
		if err != nil {
			return nil, err
		}
		path, err := lookPath(argv[0], env, dir)
		if err != nil {
			return nil, &runtime.StepError{Kind: runtime.ErrKindExit, ExitCode: 127, Message: err.Error(), Err: err}
		}
		spec.Path, spec.Args = path, argv
		a.Log("ShellCommand", map[string]any{"exec": argv, "dir": dir})
	default:
		return nil, stepErr(runtime.ErrKindInternal, "shell step has neither run nor exec")
	}

	res, err := runProcess(ctx, s.cfg, a, spec)
	if err != nil {
		return nil, &runtime.StepError{Kind: runtime.ErrKindExit, ExitCode: 127, Message: fmt.Sprintf("starting %s: %v", spec.Args[0], err), Err: err}
	}
	out := map[string]any{"stdout": res.Stdout, "stderr": res.Stderr, "exit_code": int64(res.ExitCode)}
	if res.CtxErr != nil {
		se := runtime.AsStepError(res.CtxErr)
		se.Message = fmt.Sprintf("%s: process group killed", se.Message)
		se.Output = out
		return nil, se
	}
	if res.ExitCode != 0 && !allow {
		return nil, &runtime.StepError{
			Kind: runtime.ErrKindExit, ExitCode: res.ExitCode, Retry: true, Output: out,
			Message: "command failed" + stderrHint(a.Secrets.Redact(res.Stderr)),
		}
	}
	if !a.Step.DeclaredOutput {
		return out, nil
	}
	return parseStdout(a, res)
}

// stderrHint returns the last line of stderr as ": line", or "".
func stderrHint(stderr string) string {
	lines := strings.Split(strings.TrimRight(stderr, "\n"), "\n")
	last := strings.TrimSpace(lines[len(lines)-1])
	if last == "" {
		return ""
	}
	return ": " + shorten(last, 200)
}

// parseStdout reads stdout as the JSON value of the declared output.
func parseStdout(a *runtime.Attempt, res procResult) (any, error) {
	v, err := schema.DecodeJSONFrom(strings.NewReader(res.Stdout))
	if err != nil {
		msg := fmt.Sprintf("stdout is not JSON (the step declares an output type, so it must print one JSON value): %v", err)
		if res.StdoutCut {
			msg += "; stdout was longer than the capture limit and was cut"
		}
		if strings.TrimSpace(res.Stdout) == "" {
			msg = "stdout is empty, but the step declares an output type: print one JSON value"
		}
		return nil, &runtime.StepError{Kind: runtime.ErrKindValidation, Message: msg, Err: err, Retry: true,
			Output: map[string]any{"stdout": res.Stdout, "stderr": res.Stderr, "exit_code": int64(res.ExitCode)}}
	}
	return normalizeOutput(a, v)
}

// normalizeOutput validates v against the node's declared type, when the
// node is known, and returns it in canonical form.
func normalizeOutput(a *runtime.Attempt, v any) (any, error) {
	if a.Node == nil || a.Node.Output == nil {
		return schema.Canonical(v), nil
	}
	nv, err := schema.Normalize(a.Node.Output, v, a.NodeID)
	if err != nil {
		se := &runtime.StepError{Kind: runtime.ErrKindValidation, Message: err.Error(), Err: err, Retry: true}
		var ve *schema.ValidationError
		if errors.As(err, &ve) {
			se.Path = ve.Path
		}
		return nil, se
	}
	return nv, nil
}

// renderScript renders a run template with every interpolated value
// quoted for the shell context it lands in. A run value that is not a
// template (an expression) is the script verbatim.
func renderScript(a *runtime.Attempt, e *ir.Expr) (string, error) {
	if e.Template == nil {
		return evalExprString(a, "run", e)
	}
	slots, err := shellPlanFor(e.Template)
	if err != nil {
		return "", stepErr(runtime.ErrKindExpr, "run: %v", err)
	}
	i := 0
	script, err := a.Render(e, func(v any) (string, error) {
		if i >= len(slots) {
			return "", errors.New("more interpolated values than the template has")
		}
		slot := slots[i]
		i++
		q, err := quoteSlot(slot, v)
		if err != nil {
			return "", fmt.Errorf("interpolation %d: %w", i, err)
		}
		return q, nil
	})
	if err != nil {
		return "", evalErr("run", err)
	}
	return script, nil
}

// execArgv evaluates exec = [...] to an argument vector.
func execArgv(a *runtime.Attempt) ([]string, error) {
	v, err := evalArg(a, "exec")
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		if sl, isStrings := v.([]string); isStrings {
			for _, s := range sl {
				l = append(l, s)
			}
		} else {
			return nil, stepErr(runtime.ErrKindExpr, "exec: expected a list of arguments, got %s", schema.Describe(v))
		}
	}
	if len(l) == 0 {
		return nil, stepErr(runtime.ErrKindExpr, "exec: the list is empty; its first element is the program to run")
	}
	argv := make([]string, len(l))
	for i, e := range l {
		s, err := scalarString(e)
		if err != nil {
			return nil, stepErr(runtime.ErrKindExpr, "exec[%d]: %v", i, err)
		}
		if err := checkNUL(fmt.Sprintf("exec[%d]", i), s); err != nil {
			return nil, err
		}
		argv[i] = s
	}
	if argv[0] == "" {
		return nil, stepErr(runtime.ErrKindExpr, "exec[0]: the program name is empty")
	}
	return argv, nil
}

// stepDir resolves cwd against the attempt's directory.
func stepDir(a *runtime.Attempt) (string, error) {
	cwd, err := evalString(a, "cwd", "")
	if err != nil {
		return "", err
	}
	if err := checkNUL("cwd", cwd); err != nil {
		return "", err
	}
	dir := cwd
	switch {
	case cwd == "":
		return a.Dir, nil
	case !filepath.IsAbs(cwd) && a.Dir != "":
		dir = filepath.Join(a.Dir, cwd)
	}
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", stepErr(runtime.ErrKindExpr, "cwd: %s is not a directory", dir)
	}
	return dir, nil
}

// stepEnv evaluates env { K = v } on top of base.
func stepEnv(a *runtime.Attempt, base []string) ([]string, error) {
	m := a.Step.Maps["env"]
	if len(m) == 0 {
		return base, nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	vals := make(map[string]string, len(m))
	for _, k := range keys {
		if k == "" || strings.ContainsAny(k, "=\x00") {
			return nil, stepErr(runtime.ErrKindExpr, "env: invalid variable name %q", k)
		}
		v, err := a.Eval(m[k])
		if err != nil {
			return nil, evalErr("env."+k, err)
		}
		s, err := textValue(v)
		if err != nil {
			return nil, stepErr(runtime.ErrKindExpr, "env.%s: %v", k, err)
		}
		if err := checkNUL("env."+k, s); err != nil {
			return nil, err
		}
		vals[k] = s
	}
	return mergeEnv(base, vals, keys), nil
}
