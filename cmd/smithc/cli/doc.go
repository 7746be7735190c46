// Package cli builds the smithc command tree (cobra) over the library:
// every command is a few lines over compiler.Build, the IR printers, or
// the runtime. Commands write only to the writers they are given: the
// result on stdout; diagnostics, progress and errors on stderr.
//
// Progress is a live node tree redrawn in place when stderr is a
// terminal (liveView), and one plain line per event otherwise
// (progress). Approvals are asked inline when stdin and stdout are
// terminals and the wait mode is auto.
//
// Exit codes: 0 success (run finished), 1 errors (check errors, run
// failed), 2 usage errors (and check errors before a run), 3 the run is
// waiting (approval, event, timer), 130 cancelled. docs/cli.md documents
// every command.
package cli
