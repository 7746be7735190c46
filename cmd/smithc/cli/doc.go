// Package cli builds the smithc command tree (cobra) over the library:
// every command is a few lines over compiler.Build, the IR printers, or
// the runtime. Commands write only to the writers they are given.
//
// Exit codes: 0 success (run finished), 1 errors (check errors, run
// failed), 2 usage errors (and check errors before a run), 3 the run is
// waiting (approval, event, timer), 130 cancelled.
package cli
