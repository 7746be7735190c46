package runtime

import (
	"context"
	"fmt"
	"time"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// EventRunForked starts a run made by Fork; its data names the run and
// node it was forked from.
const EventRunForked = "RunForked"

// ForkParams are the arguments of Fork.
type ForkParams struct {
	// From is the node the new run starts again from: it, and everything
	// that depends on it (what Retry would reset), runs in the new run;
	// every other node that finished or was skipped in the original is
	// kept as it ended.
	From string
	// RunID names the new run ("": a new id).
	RunID string
	// Program is the run's program; nil: it is compiled from the run's
	// stored sources. One with another SourceHash is refused.
	Program *ir.Program
	Wait    WaitMode
	// Timeout, when positive, overrides the workflow's run deadline.
	Timeout time.Duration
}

// Fork makes a new run of a run's workflow, with its input and its
// stored program (not the file as it is now), that keeps what the
// original finished before p.From, and executes it from there (as
// p.Wait allows). The original is not changed. The new run's log starts
// with RunForked; the kept nodes keep their outputs, attempts and times,
// and their approvals keep their decisions, and a continue_on_fail
// step's failure stands. Nodes that had not finished (failed otherwise,
// waiting, running, cancelled) run again in the new run.
func (e *Engine) Fork(ctx context.Context, runID string, p ForkParams) (*Result, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: fork run %s: %w", runID, err)
	}
	if run.ParentRunID != "" {
		return nil, fmt.Errorf("runtime: fork: run %s is the child run of step %s of run %s (%w); fork that run from the step: smithc fork %s --from %s",
			runID, run.ParentNode, run.ParentRunID, ErrInvalidRunID, run.ParentRunID, run.ParentNode)
	}
	prog, wf, srcs, _, err := e.programOf(ctx, run, ResumeParams{Program: p.Program})
	if err != nil {
		return nil, err
	}
	again := map[string]bool{} // the ids the new run runs again
	e.mu.Lock()
	from := wf.Lookup(p.From)
	if from != nil && p.From != "" {
		for _, id := range resetSet(wf, from) {
			again[id] = true
		}
	}
	e.mu.Unlock()
	if len(again) == 0 {
		return nil, &UnknownNodeError{RunID: runID, Workflow: wf.Name, Node: p.From}
	}
	rows, err := e.cfg.Store.NodeList(ctx, &store.NodeListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: fork run %s: %w", runID, err)
	}
	aps, err := e.cfg.Store.ApprovalList(ctx, &store.ApprovalListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: fork run %s: %w", runID, err)
	}
	id := p.RunID
	if id == "" {
		id = e.cfg.NewRunIDFunc()
	} else if err := ValidateRunID(id); err != nil {
		return nil, err
	}
	now := e.now()
	row := &store.Run{
		ID: id, Workflow: run.Workflow, SourcePath: run.SourcePath, SourceHash: run.SourceHash, Input: run.Input,
		Status: store.RunRunning, Owner: e.cfg.Owner.String(), OwnerStart: e.cfg.Owner.Start,
		LeaseExpiresAt: now.Add(e.cfg.LeaseDuration), Fence: 1,
	}
	created, err := e.cfg.Store.RunCreate(ctx, &store.RunCreateParams{Sources: toStoreSources(srcs), Run: row, Now: now})
	if err != nil {
		return nil, &notCreatedError{err: err}
	}
	kept := map[nodeKey]bool{}
	b := &store.Batch{}
	for _, n := range rows {
		if again[n.NodeID] || !forkKeeps(wf.Lookup(n.NodeID), n) {
			continue
		}
		c := *n
		c.RunID = id
		b.Nodes = append(b.Nodes, &c)
		kept[nodeKey{n.NodeID, n.Scope}] = true
	}
	var decided []*store.Approval
	for _, ap := range aps {
		if !kept[nodeKey{ap.NodeID, ap.Scope}] {
			continue
		}
		// requested as pending, then decided as in the original (the
		// store's contract for an approval's life)
		c := store.Approval{RunID: id, NodeID: ap.NodeID, Scope: ap.Scope, Title: ap.Title, Summary: ap.Summary, RequestedAt: ap.RequestedAt}
		b.Approvals = append(b.Approvals, &c)
		if ap.Decided {
			decided = append(decided, ap)
		}
	}
	// The kept nodes go in before the run's first session, which loads
	// them as a resume does; if this fails, the new run is left with what
	// was written, and resuming it runs the rest.
	if !b.Empty() {
		if err := e.cfg.Store.BatchCommit(ctx, b); err != nil {
			e.release(created)
			return nil, fmt.Errorf("runtime: fork run %s into %s: %w", runID, id, err)
		}
	}
	for _, ap := range decided {
		if _, err := e.cfg.Store.ApprovalDecide(ctx, &store.ApprovalDecideParams{RunID: id, NodeID: ap.NodeID, Scope: ap.Scope,
			Approved: ap.Approved, By: ap.By, Note: ap.Note, Data: ap.Data, Now: ap.DecidedAt}); err != nil {
			e.release(created)
			return nil, fmt.Errorf("runtime: fork run %s into %s: approval %s: %w", runID, id, ap.NodeID, err)
		}
	}
	return e.session(ctx, created, sessionParams{prog: prog, wf: wf, srcs: srcs, mode: p.Wait, timeout: p.Timeout,
		startKind: EventRunForked, startData: map[string]any{"from_run": runID, "from_node": p.From}})
}

// forkKeeps reports whether a fork keeps a node instance of the original
// (one it does not run again for From): one that finished or was
// skipped, or whose failure stands because its step has
// continue_on_fail (as a resume keeps it).
func forkKeeps(n *ir.Node, row *store.Node) bool {
	switch row.State {
	case store.NodeFinished, store.NodeSkipped:
		return true
	case store.NodeFailed:
		return n != nil && n.Step != nil && n.Step.ContinueOnFail
	}
	return false
}
