package stdlib

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"

	"github.com/expr-lang/expr"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
)

// ex is a plain expression.
func ex(src string) *ir.Expr { return &ir.Expr{Src: src} }

// tpl parses a template "text ${expr} text" into parts, as the compiler
// does; $${ is a literal ${.
func tpl(t *testing.T, s string) *ir.Expr {
	t.Helper()
	e := &ir.Expr{Src: s}
	var lit strings.Builder
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			break
		}
		if i > 0 && s[i-1] == '$' {
			lit.WriteString(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		depth, j := 0, i+2
		for ; j < len(s); j++ {
			if s[j] == '{' {
				depth++
			} else if s[j] == '}' {
				if depth == 0 {
					break
				}
				depth--
			}
		}
		if j == len(s) {
			t.Fatalf("unterminated ${ in %q", s)
		}
		lit.WriteString(s[:i])
		if lit.Len() > 0 {
			e.Template = append(e.Template, ir.TemplatePart{Lit: lit.String()})
			lit.Reset()
		}
		e.Template = append(e.Template, ir.TemplatePart{Expr: ex(s[i+2 : j])})
		s = s[j+1:]
	}
	lit.WriteString(s)
	if lit.Len() > 0 || len(e.Template) == 0 {
		e.Template = append(e.Template, ir.TemplatePart{Lit: lit.String()})
	}
	return e
}

// event is one logged event.
type event struct {
	Kind string
	Data map[string]any
}

// recorder collects what an attempt reports.
type recorder struct {
	mu     sync.Mutex
	events []event
	beats  int
}

func (r *recorder) kinds(kind string) []map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []map[string]any
	for _, e := range r.events {
		if e.Kind == kind {
			out = append(out, e.Data)
		}
	}
	return out
}

func (r *recorder) heartbeats() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.beats
}

// evalIn evaluates src with expr-lang over env.
func evalIn(env map[string]any, src string) (any, error) {
	prog, err := expr.Compile(src, expr.Env(env))
	if err != nil {
		return nil, err
	}
	return expr.Run(prog, env)
}

// newAttempt builds an attempt of step whose expressions read env.
func newAttempt(t *testing.T, step *ir.Step, env map[string]any) (*runtime.Attempt, *recorder) {
	t.Helper()
	if env == nil {
		env = map[string]any{}
	}
	rec := &recorder{}
	a := &runtime.Attempt{
		RunID: "run1", NodeID: "s", Key: "s", Number: 1,
		Node: &ir.Node{ID: "s", Kind: ir.KindStep, Step: step},
		Step: step, Program: &ir.Program{}, Dir: t.TempDir(),
	}
	a.EvalFunc = func(e *ir.Expr) (any, error) { return evalIn(env, e.Src) }
	a.RenderFunc = func(e *ir.Expr, quote func(any) (string, error)) (string, error) {
		if e.Template == nil {
			v, err := evalIn(env, e.Src)
			if err != nil {
				return "", err
			}
			return fmt.Sprint(v), nil
		}
		var b strings.Builder
		for _, p := range e.Template {
			if p.Expr == nil {
				b.WriteString(p.Lit)
				continue
			}
			v, err := evalIn(env, p.Expr.Src)
			if err != nil {
				return "", err
			}
			if quote == nil {
				fmt.Fprint(&b, v)
				continue
			}
			s, err := quote(v)
			if err != nil {
				return "", err
			}
			b.WriteString(s)
		}
		return b.String(), nil
	}
	a.HeartbeatFunc = func(string) {
		rec.mu.Lock()
		rec.beats++
		rec.mu.Unlock()
	}
	a.LogFunc = func(kind string, data map[string]any) {
		// As the runtime does, each event's data is redacted on its own.
		if !a.Secrets.Empty() {
			data, _ = a.Secrets.RedactValue(data).(map[string]any)
		}
		rec.mu.Lock()
		rec.events = append(rec.events, event{kind, data})
		rec.mu.Unlock()
	}
	return a, rec
}

// writeScript writes an executable shell script into dir. It holds
// syscall.ForkLock while the file is open for writing: a process forked
// meanwhile by a parallel test would hold the descriptor until its exec,
// and running the script then fails "text file busy" (golang/go#22315).
func writeScript(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	syscall.ForkLock.RLock()
	err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755)
	syscall.ForkLock.RUnlock()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs the action of a's step with cfg.
func run(t *testing.T, cfg Config, a *runtime.Attempt) (any, error) {
	t.Helper()
	act, ok := Actions(cfg)[a.Step.Action]
	if !ok {
		t.Fatalf("no action %q", a.Step.Action)
	}
	return act.Run(context.Background(), a)
}

// jsonString encodes s as a JSON string literal.
func jsonString(s string) string {
	b, err := json.Marshal(s)
	if err != nil {
		panic(err) // strings always encode
	}
	return string(b)
}
