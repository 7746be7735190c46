package runtime

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"sync"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// A workflow's budget { tokens = N, cost_usd = X } bounds what the run's
// agent steps consume (Usage: tokens are input, cached included, plus
// output; cost as the agents report it). The runtime adds each agent
// attempt's AgentReply to the run's usage as it is logged; once a limit
// is passed, the session stops: attempts in flight are cancelled, nothing
// else starts, and the run fails with an error naming the budget and the
// figure. A session that starts over budget stops at once, so resuming
// needs a raised budget (resume with the edited source).

// budgetError is the cause a session stops with when its run went over
// budget.
type budgetError struct{ msg string }

func (e *budgetError) Error() string { return e.msg }

// budgetState is a session's running account against its budget.
type budgetState struct {
	limit  *ir.Budget
	wf     string
	runID  string
	cancel context.CancelCauseFunc

	mu   sync.Mutex
	used Usage
}

// newBudget reads what the run's agents consumed so far; nil when the
// workflow has no budget.
func (e *Engine) newBudget(ctx context.Context, run *store.Run, wf *ir.Workflow, cancel context.CancelCauseFunc) (*budgetState, error) {
	if wf.Budget == nil {
		return nil, nil
	}
	evs, err := e.cfg.Store.EventList(ctx, &store.EventListParams{RunID: run.ID})
	if err != nil {
		return nil, fmt.Errorf("runtime: events of run %s: %w", run.ID, err)
	}
	return &budgetState{limit: wf.Budget, wf: wf.Name, runID: run.ID, cancel: cancel, used: usageOf(run.ID, evs).Total}, nil
}

// check stops the session when the usage is over a limit.
func (b *budgetState) check() {
	if b == nil {
		return
	}
	b.mu.Lock()
	u := b.used
	b.mu.Unlock()
	var msg string
	switch {
	case b.limit.Tokens > 0 && u.Tokens() > b.limit.Tokens:
		msg = fmt.Sprintf("the run went over its budget: its agents used %d tokens, over budget { tokens = %d } of workflow %q",
			u.Tokens(), b.limit.Tokens, b.wf)
	case b.limit.CostUSD > 0 && u.CostUSD > b.limit.CostUSD:
		msg = fmt.Sprintf("the run went over its budget: its agents cost $%s, over budget { cost_usd = %s } of workflow %q",
			strconv.FormatFloat(u.CostUSD, 'f', 4, 64), strconv.FormatFloat(b.limit.CostUSD, 'g', -1, 64), b.wf)
	default:
		return
	}
	b.cancel(&budgetError{msg: msg + fmt.Sprintf("; raise the budget in the source and continue with `smithc resume %s --source FILE`", b.runID)})
}

// account adds an AgentReply event's figures to the usage, then checks.
func (b *budgetState) account(kind string, data map[string]any) {
	if b == nil || kind != EventAgentReply {
		return
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return
	}
	u := usageOf(b.runID, []*store.Event{{Kind: kind, Data: raw}}).Total
	b.mu.Lock()
	b.used.add(u)
	b.mu.Unlock()
	b.check()
}
