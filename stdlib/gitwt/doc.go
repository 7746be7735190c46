// Package gitwt creates and removes git worktrees for the worktree node
// (LANGUAGE.md §4): its children run in a worktree created before them and
// removed after.
//
// Add and Remove have the signatures of runtime.Config's WorktreeAddFunc
// and WorktreeRemoveFunc, so the CLI can wire them in directly. A worktree
// Add creates is marked with its owner (the run and node instance) in its
// administrative directory, .git/worktrees/NAME/smithc-owner. Both are
// idempotent for that owner, because a resumed run may repeat either:
// adding a worktree the owner created returns it, and removing one that is
// gone succeeds. A worktree someone else created (the user's, the main
// worktree) is adopted only when asked (reuse) and never removed.
package gitwt
