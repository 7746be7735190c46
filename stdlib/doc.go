// Package stdlib is smithc's standard library of step actions: compute,
// shell, http, agent and call (LANGUAGE.md §5; one page per action under
// docs/actions).
//
// It declares the actions to the checker with [Specs] and implements them
// for the runtime with [Actions]; the CLI wires both in, and the front end
// and the runtime never import this package:
//
//	checker.Config{Actions: stdlib.Specs()}
//	runtime.Config{Actions: stdlib.Actions(stdlib.Config{}), SecretFormsFunc: stdlib.SecretForms}
//
// Every action reads its step's attributes from [runtime.Attempt] (Step.Args
// and Step.Maps, evaluated with Attempt.Eval and Attempt.Render) and
// reports failures as *runtime.StepError values whose Kind a retry
// predicate reads as error.kind.
//
// Shell steps render `run` templates so that every interpolated value is
// read back by the shell as exactly that value ([ShellQuote], adapted to
// the quoting context of each interpolation). Processes (shell steps and
// CLI agents) run in their own process group; when the attempt's context
// ends the whole group gets SIGTERM and, after a grace period, SIGKILL.
// Their output is captured up to a cap per stream, keeping the tail, and
// streamed to the event log.
//
// Agent steps with a declared output ask for JSON of that type, find it in
// the reply ([ExtractJSON]) and validate it; a reply that does not fit is
// a retryable validation failure whose message the next attempt feeds back
// to the agent.
//
// Package stdlib/gitwt provides the git worktree functions of the worktree
// node.
package stdlib
