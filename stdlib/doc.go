// Package stdlib is smithc's standard library of step actions: compute,
// shell, http, agent and call (LANGUAGE.md §5).
//
// It declares the actions to the checker with [Specs] and implements them
// for the runtime with [Actions]. The CLI wires both in; the front end and
// the runtime never import this package.
//
// Every action reads its step's attributes from [runtime.Attempt] (Step.Args
// and Step.Maps, evaluated with Attempt.Eval and Attempt.Render) and
// reports failures as *runtime.StepError values whose Kind a retry
// predicate can read as error.kind.
//
// Processes (shell steps and CLI agents) run in their own process group;
// when the attempt's context ends the whole group gets SIGTERM and, after
// a grace period, SIGKILL. Their output is captured up to a cap per stream,
// keeping the tail.
package stdlib
