// Package gitwt creates and removes git worktrees for the worktree node
// (LANGUAGE.md §4): its children run in a worktree created before them and
// removed after.
//
// Add and Remove have the signatures of runtime.Config's WorktreeAddFunc
// and WorktreeRemoveFunc, so the CLI can wire them in directly. Both are
// idempotent, because a resumed run may repeat either: adding a worktree
// that already exists at the path returns it, and removing one that is
// gone succeeds.
package gitwt
