package stdlib

import (
	"github.com/smithc/smithc/runtime"
)

// Action names, as in ir.Step.Action and schema.ActionSpec.Name.
const (
	ActionCompute = "compute"
	ActionShell   = "shell"
	ActionHTTP    = "http"
	ActionAgent   = "agent"
	ActionCall    = "call"
)

// Actions returns the standard actions configured by cfg, keyed by action
// name, for the runtime.
func Actions(cfg Config) runtime.Actions {
	return runtime.Actions{
		ActionCompute: computeAction{},
		ActionShell:   shellAction{cfg: cfg},
		ActionHTTP:    httpAction{cfg: cfg},
		ActionAgent:   agentAction{cfg: cfg},
		ActionCall:    callAction{},
	}
}
