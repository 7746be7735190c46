package runtime

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/smithc/smithc/runtime/store"
)

// This file adds to the read model (view.go) what a run's agents consumed:
// tokens and cost, per attempt, per node instance and for the run,
// computed from the AgentReply events agent actions log after each
// attempt (failed attempts included).

// Usage is what agents consumed. InputTokens counts every input token,
// cached ones included; CacheReadTokens and CacheCreationTokens are the
// parts of it read from and written to the prompt cache. CostUSD is what
// the agents reported (claude does; other CLIs report no cost, and count
// 0).
type Usage struct {
	InputTokens         int64
	OutputTokens        int64
	CacheReadTokens     int64
	CacheCreationTokens int64
	CostUSD             float64
	// Replies is the number of agent replies counted.
	Replies int
}

// Tokens is the usage's token count: input (cached included) and output.
// A run budget's tokens are counted this way.
func (u Usage) Tokens() int64 { return u.InputTokens + u.OutputTokens }

// CacheTokens is the part of the input read from or written to the
// prompt cache.
func (u Usage) CacheTokens() int64 { return u.CacheReadTokens + u.CacheCreationTokens }

// add adds v to u.
func (u *Usage) add(v Usage) {
	u.InputTokens += v.InputTokens
	u.OutputTokens += v.OutputTokens
	u.CacheReadTokens += v.CacheReadTokens
	u.CacheCreationTokens += v.CacheCreationTokens
	u.CostUSD += v.CostUSD
	u.Replies += v.Replies
}

// AttemptUsage is what one attempt of an agent step consumed.
type AttemptUsage struct {
	Attempt   int
	Agent     string
	SessionID string
	Turns     int64
	Usage
}

// NodeUsage is what one node instance consumed, attempt by attempt.
type NodeUsage struct {
	NodeID, Scope string
	Iteration     int
	Usage
	Attempts []*AttemptUsage
}

// RunUsage is what a run's agents consumed: Total over its nodes, in the
// order their first reply was logged. A call step's child run has a
// usage of its own, not counted here.
type RunUsage struct {
	RunID string
	Total Usage
	Nodes []*NodeUsage
}

// Node returns the usage of a node instance, nil when it has none.
func (u *RunUsage) Node(nodeID, scope string) *NodeUsage {
	for _, n := range u.Nodes {
		if n.NodeID == nodeID && n.Scope == scope {
			return n
		}
	}
	return nil
}

// agentReplyData is the accounting part of an AgentReply event.
type agentReplyData struct {
	Agent               string  `json:"agent"`
	SessionID           string  `json:"session_id"`
	InputTokens         int64   `json:"input_tokens"`
	OutputTokens        int64   `json:"output_tokens"`
	CacheReadTokens     int64   `json:"cache_read_tokens"`
	CacheCreationTokens int64   `json:"cache_creation_tokens"`
	Turns               int64   `json:"turns"`
	CostUSD             float64 `json:"cost_usd"`
}

// EventAgentReply is the kind of the event an agent action logs after
// each attempt, with its accounting.
const EventAgentReply = store.IndexedEventKind

// Usage returns what a run's agents consumed; the error wraps
// store.ErrNotFound for an unknown run.
func (e *Engine) Usage(ctx context.Context, runID string) (*RunUsage, error) {
	if _, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID}); err != nil {
		return nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	// Only the agents' replies are read: a run of 10⁵ compute steps has
	// none, and its log is not loaded for them.
	evs, err := e.cfg.Store.EventList(ctx, &store.EventListParams{RunID: runID, Kind: EventAgentReply})
	if err != nil {
		return nil, fmt.Errorf("runtime: events of run %s: %w", runID, err)
	}
	return usageOf(runID, evs), nil
}

// usageOf sums the AgentReply events among evs.
func usageOf(runID string, evs []*store.Event) *RunUsage {
	out := &RunUsage{RunID: runID}
	nodes := map[[2]string]*NodeUsage{}
	for _, ev := range evs {
		if ev.Kind != EventAgentReply {
			continue
		}
		var d agentReplyData
		if json.Unmarshal(ev.Data, &d) != nil {
			continue
		}
		u := Usage{InputTokens: d.InputTokens, OutputTokens: d.OutputTokens, CacheReadTokens: d.CacheReadTokens,
			CacheCreationTokens: d.CacheCreationTokens, CostUSD: d.CostUSD, Replies: 1}
		k := [2]string{ev.NodeID, ev.Scope}
		n := nodes[k]
		if n == nil {
			n = &NodeUsage{NodeID: ev.NodeID, Scope: ev.Scope, Iteration: ev.Iteration}
			nodes[k] = n
			out.Nodes = append(out.Nodes, n)
		}
		n.Iteration = ev.Iteration
		n.add(u)
		n.Attempts = append(n.Attempts, &AttemptUsage{Attempt: ev.Attempt, Agent: d.Agent, SessionID: d.SessionID, Turns: d.Turns, Usage: u})
		out.Total.add(u)
	}
	return out
}
