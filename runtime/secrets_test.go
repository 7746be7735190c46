package runtime_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// withSecrets makes the engine read the given variables.
func withSecrets(vars map[string]string) func(*runtime.Config) {
	return func(c *runtime.Config) {
		c.LookupEnvFunc = func(name string) (string, bool) {
			v, ok := vars[name]
			return v, ok
		}
	}
}

// storeBytes returns the SQLite file and its WAL, as an attacker with the
// file would read them.
func storeBytes(t *testing.T, b *bundle) string {
	t.Helper()
	var all []byte
	for _, p := range []string{b.path, b.path + "-wal"} {
		data, err := os.ReadFile(p)
		if err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		all = append(all, data...)
	}
	return string(all)
}

// TestSecretOutputRefused: a step output holding a secret fails the step
// naming the field path; nothing is stored in its place (the old redactor
// stored "token=***" as if it were data).
func TestSecretOutputRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, withSecrets(map[string]string{"TOKEN": "s3cr3t-value"}))
	prog := program("leak", nil, value("use", `{ ok: "fine", auth: { header: "token=" + secret("TOKEN") } }`))
	prog.Secrets = []string{"TOKEN"}
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed || !strings.Contains(res.Error, `use.auth.header holds the value of secret("TOKEN")`) {
		t.Fatalf("%s %q", res.Status, res.Error)
	}
	n, err := b.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: res.RunID, NodeID: "use"})
	if err != nil || n.State != store.NodeFailed || len(n.Output) != 0 || n.ErrorKind != runtime.ErrKindValidation {
		t.Errorf("node row %+v %v", n, err)
	}
	if db := storeBytes(t, b); strings.Contains(db, "s3cr3t") || strings.Contains(db, "token=***") {
		t.Error("the secret, or a rewritten output, is in the store file")
	}
}

// TestShortSecretRefusedAtStart: a secret shorter than 4 bytes would
// rewrite keys and numbers; the run is refused before anything is stored.
func TestShortSecretRefusedAtStart(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"k", "ok", "t", "1", `"`} {
		b := setup(t, nil, withSecrets(map[string]string{"K": v}))
		prog := program("short", nil, value("use", `{ status: "ok", count: 10, v: len(secret("K")) }`))
		prog.Secrets = []string{"K"}
		_, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog})
		if err == nil || !strings.Contains(err.Error(), `secret("K") is `) || !strings.Contains(err.Error(), "shorter than 4 bytes") {
			t.Errorf("secret %q: Start error %v", v, err)
		}
		runs, err := b.store.RunList(context.Background(), &store.RunListParams{})
		if err != nil || len(runs) != 0 {
			t.Errorf("secret %q: runs created: %d %v", v, len(runs), err)
		}
	}
}

// TestShortSecretNotCorrupting: with 4-byte secrets that look like part
// of a number or of an enum value, stored outputs are exactly what was
// validated and stored JSON stays valid (before, a secret "1000" made
// the stored count ***0, invalid JSON).
func TestShortSecretNotCorrupting(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, withSecrets(map[string]string{"K": "okay", "N": "1000"}))
	typ := schema.ObjectOf(&schema.Field{Name: "status", Type: schema.EnumOf("ok", "bad")}, &schema.Field{Name: "count", Type: schema.IntType})
	prog := program("short", nil,
		value("probe", `len(secret("K")) + len(secret("N"))`),
		value("use", `{ status: "ok", count: 10000 }`, withOutput(typ)))
	prog.Secrets = []string{"K", "N"}
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("%s %s", res.Status, res.Error)
	}
	n, err := b.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: res.RunID, NodeID: "use"})
	if err != nil || string(n.Output) != `{"count":10000,"status":"ok"}` {
		t.Errorf("stored output %s %v", n.Output, err)
	}
	evs, err := b.store.EventList(context.Background(), &store.EventListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range evs {
		if len(e.Data) > 0 && !json.Valid(e.Data) {
			t.Errorf("event %s data is not JSON: %s", e.Kind, e.Data)
		}
	}
}

// TestSecretInputRefused: a run's input is stored; one holding a secret
// is refused, naming the field, and no run is created.
func TestSecretInputRefused(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, withSecrets(map[string]string{"TOKEN": "in-put-secret"}))
	in := schema.ObjectOf(&schema.Field{Name: "token", Type: schema.StringType})
	prog := program("in", in, value("use", `len(secret("TOKEN"))`))
	prog.Secrets = []string{"TOKEN"}
	_, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog, Input: map[string]any{"token": "in-put-secret"}})
	if err == nil || !strings.Contains(err.Error(), `input.token holds the value of secret("TOKEN")`) || strings.Contains(err.Error(), "in-put-secret") {
		t.Fatalf("Start error %v", err)
	}
}

// TestSecretCallInputRefused: a child run's input is stored with it; a
// call whose input carries a secret fails (the checker refuses a
// secret() written there; this is the run-time rule for one that arrives
// another way).
func TestSecretCallInputRefused(t *testing.T) {
	t.Parallel()
	callAct := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		in, err := a.Eval(a.Step.Args["input"])
		if err != nil {
			return nil, err
		}
		return a.CallFunc(ctx, a.Step.Call, in)
	})
	b := setup(t, runtime.Actions{"call": callAct}, withSecrets(map[string]string{"TOKEN": "call-secret-1"}))
	child := program("child", schema.ObjectOf(&schema.Field{Name: "token", Type: schema.StringType}), value("n", `len(input.token)`))
	parent := program("parent", nil, step("c", "call", map[string]*ir.Expr{"input": x(`{ token: env("TOKEN") }`)}))
	parent.Workflows[0].Root.Children[0].Step.Call = "child"
	parent.Workflows = append(parent.Workflows, child.Workflows[0])
	parent.Secrets = []string{"TOKEN"}
	res, err := b.engine.Start(context.Background(), runtime.StartParams{Program: parent, Workflow: "parent"})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.RunFailed || !strings.Contains(res.Error, `input.token holds the value of secret("TOKEN")`) {
		t.Fatalf("%s %q", res.Status, res.Error)
	}
	if db := storeBytes(t, b); strings.Contains(db, "call-secret-1") {
		t.Error("the secret is in the store file")
	}
}

// TestCacheKeyHashed: a cache key built from a secret is stored hashed,
// the entry still hits, and a cached output holding a secret of the run
// is not used.
func TestCacheKeyHashed(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, withSecrets(map[string]string{"TOKEN": "cache-key-secret"}))
	prog := program("cached", nil, value("c", `"built"`, withCache(tmpl("k-", x(`secret("TOKEN")`)), time.Hour)))
	prog.Secrets = []string{"TOKEN"}
	for i := 0; i < 2; i++ {
		if res := start(t, b, prog, nil); res.Status != store.RunFinished || res.Output != "built" {
			t.Fatalf("run %d: %+v", i, res)
		}
	}
	var key string
	if err := b.store.DB().QueryRow(`SELECT key FROM cache_entry`).Scan(&key); err != nil || !strings.HasPrefix(key, "sha256:") {
		t.Errorf("stored key %q %v", key, err)
	}
	if db := storeBytes(t, b); strings.Contains(db, "cache-key-secret") {
		t.Error("the secret is in the store file")
	}
	hits := 0
	b.mu.Lock()
	for _, e := range b.events {
		if e.Kind == runtime.EventCacheHit {
			hits++
		}
	}
	b.mu.Unlock()
	if hits != 1 {
		t.Errorf("%d cache hits, want 1", hits)
	}

	// An entry written before (or by a run with other secrets) holding
	// this run's secret is refused; the step runs.
	b2 := setup(t, nil, withSecrets(map[string]string{"TOKEN": "built"}))
	prog2 := program("cached", nil, value("c", `"fresh"`, withCache(x(`"same-key"`), time.Hour)))
	err := b2.store.CachePut(context.Background(), &store.CachePutParams{Entry: &store.CacheEntry{Workflow: "cached", SourceHash: prog2.SourceHash,
		Key: "sha256:" + sha256hex("same-key"), Output: []byte(`"built"`), CreatedAt: time.Now(), ExpiresAt: time.Now().Add(time.Hour)}})
	if err != nil {
		t.Fatal(err)
	}
	prog2.Workflows[0].Root.Children = append([]*ir.Node{value("probe", `len(secret("TOKEN"))`)}, prog2.Workflows[0].Root.Children...)
	prog2.Secrets = []string{"TOKEN"}
	if res := start(t, b2, prog2, nil); res.Status != store.RunFinished || res.Output != "fresh" {
		t.Errorf("cached output holding a secret: %+v", res)
	}
}

// TestSecretErrorSameAfterResume: an error message is redacted when the
// attempt ends, so a catch body reads the same text live and after a
// resume in another engine (before, the live run read the raw secret and
// the resumed one "***"), and the stored error holds no secret.
func TestSecretErrorSameAfterResume(t *testing.T) {
	t.Parallel()
	fail := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		v, _ := a.Eval(a.Step.Args["value"])
		return nil, &runtime.StepError{Kind: runtime.ErrKindExit, Message: "bad token " + v.(string)}
	})
	vars := withSecrets(map[string]string{"TOKEN": "err-secret-9"})
	b := setup(t, runtime.Actions{"fail": fail}, vars)
	tryNode := func() *ir.Node {
		return try("t", []*ir.Node{step("f", "fail", map[string]*ir.Expr{"value": x(`secret("TOKEN")`)})},
			[]*ir.Node{value("live", `error.message`)}, nil)
	}
	prog := program("errs", nil, tryNode(),
		approval("gate", "fail"),
		value("later", `live == "bad token ***"`))
	prog.Secrets = []string{"TOKEN"}
	// All live: the decision reads the redacted message.
	liveProg := program("errs_live", nil, tryNode(), value("later", `live == "bad token ***"`))
	liveProg.Secrets = prog.Secrets
	if res := start(t, b, liveProg, nil); res.Status != store.RunFinished || res.Output != true {
		t.Fatalf("live: %+v", res)
	}
	res := start(t, b, prog, nil)
	if res.Status != store.RunWaitingApproval {
		t.Fatalf("%+v", res)
	}
	b2 := setupAt(t, b.path, runtime.Actions{"fail": fail}, vars, func(c *runtime.Config) {
		c.CompileFunc = func(context.Context, []runtime.Source) (*ir.Program, error) { return prog, nil }
	})
	res, err := b2.engine.Approve(context.Background(), res.RunID, "gate", runtime.Decision{By: "me"}, true)
	if err != nil || res.Status != store.RunFinished {
		t.Fatalf("%+v %v", res, err)
	}
	if res.Output != true {
		t.Errorf("after resume the decision differs: %+v", res)
	}
	n, err := b2.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: res.RunID, NodeID: "live"})
	if err != nil || string(n.Output) != `"bad token ***"` {
		t.Errorf("live read %s %v", n.Output, err)
	}
	if db := storeBytes(t, b); strings.Contains(db, "err-secret-9") {
		t.Error("the secret is in the store file")
	}
}

// TestEnvOfSecretRedactedFirst: a variable named by secret() is a secret
// from the start of the run, even where env() reads it before any
// secret() call has run (before, it was redacted only after one).
func TestEnvOfSecretRedactedFirst(t *testing.T) {
	t.Parallel()
	fail := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		v, _ := a.Eval(a.Step.Args["value"])
		return nil, &runtime.StepError{Kind: runtime.ErrKindExit, Message: "saw " + v.(string)}
	})
	b := setup(t, runtime.Actions{"fail": fail}, withSecrets(map[string]string{"TOKEN": "env-first-secret"}))
	prog := program("envfirst", nil,
		step("early", "fail", map[string]*ir.Expr{"value": x(`env("TOKEN")`)}, continueOnFail()),
		value("late", `len(secret("TOKEN"))`))
	prog.Secrets = []string{"TOKEN"}
	res := start(t, b, prog, nil)
	if res.Status != store.RunFinished {
		t.Fatalf("%+v", res)
	}
	n, err := b.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: res.RunID, NodeID: "early"})
	if err != nil || n.Error != "saw *** (exit code 0)" && n.Error != "saw ***" {
		t.Errorf("early error %q %v", n.Error, err)
	}
	if db := storeBytes(t, b); strings.Contains(db, "env-first-secret") {
		t.Error("the secret is in the store file")
	}
}

// TestSecretErrorsDoNotQuoteValue: an output holding a secret is refused
// before it is validated, so no validation message quotes it.
func TestSecretErrorsDoNotQuoteValue(t *testing.T) {
	t.Parallel()
	b := setup(t, nil, withSecrets(map[string]string{"TOKEN": "enum-secret-value"}))
	prog := program("enum", nil, value("e", `secret("TOKEN")`, withOutput(schema.EnumOf("a", "b"))))
	prog.Secrets = []string{"TOKEN"}
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed || strings.Contains(res.Error, "enum-secret") || !strings.Contains(res.Error, `e holds the value of secret("TOKEN")`) {
		t.Errorf("%s %q", res.Status, res.Error)
	}
}

func sha256hex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}
