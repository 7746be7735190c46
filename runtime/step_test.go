package runtime_test

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/runtime/store"
	"github.com/smithc/smithc/schema"
)

// flaky fails until its n-th call, with the given error kind.
func flaky(calls *atomic.Int32, succeedAt int32, kind string) runtime.Action {
	return runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		n := calls.Add(1)
		if n < succeedAt {
			return nil, &runtime.StepError{Kind: kind, Message: "try " + string(rune('0'+n)), ExitCode: int(n), Retry: true}
		}
		return map[string]any{"n": int64(n), "attempt": int64(a.Number)}, nil
	})
}

func attempts(t *testing.T, b *bundle, runID string) []string {
	t.Helper()
	as, err := b.store.AttemptList(context.Background(), &store.AttemptListParams{RunID: runID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range as {
		out = append(out, a.NodeID+"#"+string(rune('0'+a.Number))+" "+string(a.State)+" "+a.ErrorKind)
	}
	return out
}

func TestRetry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		succeedAt int32
		retry     *ir.Retry
		status    store.RunStatus
		attempts  []string
	}{
		{"succeeds on the third try", 3, &ir.Retry{Attempts: 3, Backoff: "fixed", Delay: time.Millisecond}, store.RunFinished,
			[]string{"s#1 failed exit", "s#2 failed exit", "s#3 finished "}},
		{"attempts counts all tries", 4, &ir.Retry{Attempts: 3, Backoff: "exponential", Delay: time.Millisecond}, store.RunFailed,
			[]string{"s#1 failed exit", "s#2 failed exit", "s#3 failed exit"}},
		{"when stops retrying", 3, &ir.Retry{Attempts: 5, Delay: time.Millisecond, When: x(`error.exit_code < 2`)}, store.RunFailed,
			[]string{"s#1 failed exit", "s#2 failed exit"}},
		{"no policy: one try", 2, nil, store.RunFailed, []string{"s#1 failed exit"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var calls atomic.Int32
			b := setup(t, runtime.Actions{"flaky": flaky(&calls, tt.succeedAt, runtime.ErrKindExit)})
			res := start(t, b, program("retry", nil, step("s", "flaky", nil, withRetry(tt.retry))), nil)
			if res.Status != tt.status {
				t.Fatalf("status %s (%s), want %s", res.Status, res.Error, tt.status)
			}
			if diff := cmp.Diff(tt.attempts, attempts(t, b, res.RunID)); diff != "" {
				t.Errorf("attempts (-want +got):\n%s", diff)
			}
			if tt.status == store.RunFailed && !strings.Contains(res.Error, "step s failed: try") {
				t.Errorf("error %q does not name the step and its error", res.Error)
			}
		})
	}
}

func TestRetryDelay(t *testing.T) {
	t.Parallel()
	tests := []struct {
		r    ir.Retry
		try  int
		want time.Duration
	}{
		{ir.Retry{Backoff: "fixed", Delay: time.Second}, 3, time.Second},
		{ir.Retry{Backoff: "linear", Delay: time.Second}, 3, 3 * time.Second},
		{ir.Retry{Backoff: "exponential", Delay: time.Second}, 1, time.Second},
		{ir.Retry{Backoff: "exponential", Delay: time.Second}, 4, 8 * time.Second},
		{ir.Retry{Backoff: "exponential", Delay: time.Second, MaxDelay: 5 * time.Second}, 4, 5 * time.Second},
		{ir.Retry{Backoff: "exponential", Delay: time.Second, MaxDelay: time.Minute}, 200, time.Minute},
	}
	for _, tt := range tests {
		if got := runtime.RetryDelay(&tt.r, tt.try); got != tt.want {
			t.Errorf("%s delay %v after try %d = %v, want %v", tt.r.Backoff, tt.r.Delay, tt.try, got, tt.want)
		}
	}
	r := ir.Retry{Backoff: "fixed", Delay: time.Second, Jitter: time.Second}
	for i := 0; i < 20; i++ {
		if d := runtime.RetryDelay(&r, 1); d < time.Second || d >= 2*time.Second {
			t.Fatalf("jittered delay %v outside [1s, 2s)", d)
		}
	}
}

func TestTimeoutKillsTheAttempt(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	prog := program("timeout", nil, sh("slow", tmpl("sleep 20"), withTimeout(100*time.Millisecond),
		withRetry(&ir.Retry{Attempts: 2, When: x(`error.kind == "timeout"`)})))
	begin := time.Now()
	res := start(t, b, prog, nil)
	if res.Status != store.RunFailed || !strings.Contains(res.Error, "timed out after 100ms") {
		t.Fatalf("status %s error %q", res.Status, res.Error)
	}
	if diff := cmp.Diff([]string{"slow#1 failed timeout", "slow#2 failed timeout"}, attempts(t, b, res.RunID)); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if time.Since(begin) > 10*time.Second {
		t.Errorf("the timed-out process was not killed")
	}
}

func TestOutputValidation(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	typ := &schema.Type{Kind: schema.Object, Name: "Analysis", Fields: []*schema.Field{
		{Name: "risk", Type: schema.EnumOf("low", "medium", "high")},
	}}
	prog := program("val", nil, value("analyze", `{ risk: "severe" }`, withOutput(typ)))
	res := start(t, b, prog, nil)
	want := `step analyze failed: analyze.risk: "severe" is not one of "low" | "medium" | "high"`
	if res.Status != store.RunFailed || res.Error != want {
		t.Errorf("got %s %q, want failed %q", res.Status, res.Error, want)
	}
	if diff := cmp.Diff([]string{"analyze#1 failed validation"}, attempts(t, b, res.RunID)); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
}

// TestNonFiniteOutput: a result JSON cannot hold (0.0 / 0.0, inside an
// object of no declared type too) fails the attempt as validation naming
// the field, not as an internal error of encoding it.
func TestNonFiniteOutput(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for _, c := range []struct {
		src  string
		out  *schema.Type
		want string
	}{
		{"0.0 / 0.0", schema.FloatType, "step s failed: s: NaN is not a number JSON can hold"},
		{"{ a: [1.0, 1.0 / 0.0] }", nil, "step s failed: s.a[1]: +Inf is not a number JSON can hold"},
	} {
		var opts []opt
		if c.out != nil {
			opts = append(opts, withOutput(c.out))
		}
		res := start(t, b, program("nan", nil, value("s", c.src, opts...)), nil)
		if res.Status != store.RunFailed || !strings.HasPrefix(res.Error, c.want) {
			t.Errorf("%s: got %s %q, want failed %q", c.src, res.Status, res.Error, c.want)
		}
		if diff := cmp.Diff([]string{"s#1 failed validation"}, attempts(t, b, res.RunID)); diff != "" {
			t.Errorf("%s: attempts (-want +got):\n%s", c.src, diff)
		}
	}
}

// TestRawBytesReadAsStored: a shell step whose stdout is not UTF-8 gives
// later steps the string that is stored (U+FFFD for each stray byte, as
// JSON holds it), not the raw bytes that a resumed run could not read.
func TestRawBytesReadAsStored(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	res := start(t, b, program("raw", nil, sh("a", tmpl(`printf 'ab\377cd'`)), value("b", "a.stdout")), nil)
	if res.Status != store.RunFinished || res.Output != "ab\uFFFDcd" {
		t.Fatalf("got %s %q (%v), want finished %q", res.Status, res.Output, res.Error, "ab\uFFFDcd")
	}
	n, err := b.store.NodeGet(context.Background(), &store.NodeGetParams{RunID: res.RunID, NodeID: "a"})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(n.Output), `"ab\ufffdcd"`) && !strings.Contains(string(n.Output), "\"ab\uFFFDcd\"") {
		t.Errorf("stored output of a: %s", n.Output)
	}
}

func TestContinueOnFailAndSkipIf(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	in := schema.ObjectOf(&schema.Field{Name: "skip", Type: schema.BoolType})
	prog := program("cof", in,
		sh("bad", tmpl("exit 1"), continueOnFail()),
		value("maybe", `"ran"`, withSkipIf(x("input.skip"))),
		value("out", `{ bad: bad?.stdout ?? "failed", maybe: maybe ?? "skipped" }`),
	)
	for _, skip := range []bool{true, false} {
		res := start(t, b, prog, map[string]any{"skip": skip})
		want := map[string]any{"bad": "failed", "maybe": "ran"}
		states := map[string]string{"bad": "failed", "maybe": "finished", "out": "finished"}
		if skip {
			want["maybe"], states["maybe"] = "skipped", "skipped"
		}
		if res.Status != store.RunFinished {
			t.Fatalf("skip=%v: %s %s", skip, res.Status, res.Error)
		}
		if diff := cmp.Diff(want, res.Output); diff != "" {
			t.Errorf("skip=%v: output (-want +got):\n%s", skip, diff)
		}
		if diff := cmp.Diff(states, b.nodeStates(t, res.RunID)); diff != "" {
			t.Errorf("skip=%v: states (-want +got):\n%s", skip, diff)
		}
	}
}

func TestCacheAcrossRuns(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	count := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		return int64(calls.Add(1)), nil
	})
	b := setup(t, runtime.Actions{"count": count})
	in := schema.ObjectOf(&schema.Field{Name: "k", Type: schema.StringType})
	prog := program("cache", in, step("c", "count", nil, withCache(x("input.k"), 0)))
	var outs []any
	for _, k := range []string{"a", "a", "b", "a"} {
		res := start(t, b, prog, map[string]any{"k": k})
		outs = append(outs, res.Output)
	}
	if diff := cmp.Diff([]any{int64(1), int64(1), int64(2), int64(1)}, outs); diff != "" {
		t.Errorf("outputs (-want +got):\n%s", diff)
	}
	// Another source hash does not share the cache.
	prog2 := program("cache", in, step("c", "count", nil, withCache(x("input.k"), 0)))
	prog2.SourceHash = "other"
	if res := start(t, b, prog2, map[string]any{"k": "a"}); res.Output != int64(3) {
		t.Errorf("other source: output %v, want 3", res.Output)
	}
}

func TestFailureStopsNewWork(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	started := make(chan struct{})
	var b *bundle
	bad := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		<-started
		return nil, &runtime.StepError{Kind: runtime.ErrKindExit, Message: "command failed", ExitCode: 2}
	})
	// slow is running when bad fails, and finishes after the failure is
	// recorded: it must be persisted, and nothing after it may start.
	slow := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		close(started)
		for {
			n, err := b.store.NodeGet(ctx, &store.NodeGetParams{RunID: a.RunID, NodeID: "bad"})
			if err == nil && n.State == store.NodeFailed {
				return "slow", nil
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	b = setup(t, runtime.Actions{"bad": bad, "slow": slow})
	prog := program("fail", nil,
		par("p", 0,
			step("bad", "bad", nil),
			seq("s", step("slow", "slow", nil), value("later", "1")),
		),
		value("after", "1"),
	)
	res, err := b.engine.Start(ctx, runtime.StartParams{Program: prog})
	if err != nil {
		t.Fatal(err)
	}
	if res.Status != store.RunFailed || res.Error != "step bad failed: command failed (exit code 2)" {
		t.Fatalf("status %s error %q", res.Status, res.Error)
	}
	states := b.nodeStates(t, res.RunID)
	if states["slow"] != "finished" || states["later"] != "" || states["after"] != "" {
		t.Errorf("running attempt not finished or new work started: %v", states)
	}
}

func TestTypeViews(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	typ := &schema.Type{Kind: schema.Object, Name: "Analysis", Fields: []*schema.Field{
		{Name: "summary", Type: schema.StringType}, {Name: "risk", Type: schema.StringType},
	}}
	prog := program("views", nil, value("analyze", `{ summary: "ok", risk: "low" }`, withOutput(typ)))
	prog.Types = []*schema.Type{typ}
	res := start(t, b, prog, nil)
	var node, summary, risk string
	var iteration int
	err := b.store.DB().QueryRow(`SELECT node_id, iteration, summary, risk FROM Analysis WHERE run_id = ?`, res.RunID).
		Scan(&node, &iteration, &summary, &risk)
	if err == sql.ErrNoRows || err != nil {
		t.Fatalf("query view: %v", err)
	}
	if node != "analyze" || summary != "ok" || risk != "low" {
		t.Errorf("view row: %s %d %s %s", node, iteration, summary, risk)
	}
}

// TestComputeStepWrites checks what a compute step leaves in the store
// when its start is held back to go with its end (one write): the same
// events, in the same order, as when each part is written at once, also
// when the step logs while it runs or fails an attempt first.
func TestComputeStepWrites(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	compute := runtime.ActionFunc(func(ctx context.Context, a *runtime.Attempt) (any, error) {
		switch a.NodeID {
		case "b":
			a.Log("Note", map[string]any{"x": 1})
		case "c":
			if calls.Add(1) == 1 {
				return nil, &runtime.StepError{Kind: runtime.ErrKindExpr, Message: "not yet", Retry: true}
			}
		}
		return a.Eval(a.Step.Args["value"])
	})
	b := setup(t, runtime.Actions{"compute": compute})
	prog := program("held", nil, value("a", "1"), value("b", "a + 1"), value("c", "b + 1", withRetry(&ir.Retry{Attempts: 2})))
	res, err := b.engine.Start(context.Background(), runtime.StartParams{Program: prog})
	if err != nil || res.Status != store.RunFinished || res.Output != int64(3) {
		t.Fatalf("%+v %v", res, err)
	}
	evs, err := b.store.EventList(context.Background(), &store.EventListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range evs {
		if e.NodeID != "" {
			got = append(got, fmt.Sprintf("%s %s %d", e.NodeID, e.Kind, e.Attempt))
		}
	}
	want := []string{
		"a NodeStarted 0", "a AttemptStarted 1", "a NodeFinished 1",
		"b NodeStarted 0", "b AttemptStarted 1", "b Note 1", "b NodeFinished 1",
		"c NodeStarted 0", "c AttemptStarted 1", "c AttemptFailed 1", "c RetryScheduled 1", "c AttemptStarted 2", "c NodeFinished 2",
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	for i := 1; i < len(evs); i++ {
		if evs[i].Time.Before(evs[i-1].Time) {
			t.Errorf("event %d (%s %s) at %s is before the one before it", i, evs[i].NodeID, evs[i].Kind, evs[i].Time)
		}
	}
	atts, err := b.store.AttemptList(context.Background(), &store.AttemptListParams{RunID: res.RunID})
	if err != nil {
		t.Fatal(err)
	}
	var gotAtts []string
	for _, a := range atts {
		gotAtts = append(gotAtts, fmt.Sprintf("%s %d %s", a.NodeID, a.Number, a.State))
		if a.StartedAt.IsZero() || a.FinishedAt.Before(a.StartedAt) || a.Owner == "" {
			t.Errorf("attempt %s %d: started %s, finished %s, owner %q", a.NodeID, a.Number, a.StartedAt, a.FinishedAt, a.Owner)
		}
	}
	if diff := cmp.Diff([]string{"a 1 finished", "b 1 finished", "c 1 failed", "c 2 finished"}, gotAtts); diff != "" {
		t.Errorf("attempts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(map[string]string{"a": "finished", "b": "finished", "c": "finished"}, b.nodeStates(t, res.RunID)); diff != "" {
		t.Errorf("nodes (-want +got):\n%s", diff)
	}
}
