// Package runtime executes compiled workflows (package compiler/ir)
// durably: every attempt, output, decision and event is committed to a
// store before anything that depends on it starts, so a run that crashes,
// is cancelled or waits for a person resumes where it stopped.
//
// Step actions are supplied by the caller as an [Actions] registry (the
// standard library lives in package stdlib, which imports this one).
package runtime
