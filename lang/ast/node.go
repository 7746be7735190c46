package ast

import "github.com/smithc/smithc/lang/diag"

// Attr is an attribute "name = value".
//
//	timeout = "2m"
type Attr struct {
	Name  Ident
	Value *Expr
	Range diag.Range
}

// Span implements Node.
func (a *Attr) Span() diag.Range { return a.Range }

// Block is a nested configuration block inside a step, an agent, or another
// block: retry, cache, env, http, headers, openai, and call (which has a
// label naming the workflow).
//
//	retry { attempts = 3, backoff = "exponential", delay = "1s" }
//	call deploy { input = { env: "prod" } }
type Block struct {
	Kind   Ident  // retry, cache, env, http, headers, openai, call, ...
	Label  *Ident // call's workflow name; nil when absent
	Attrs  []*Attr
	Blocks []*Block
	Range  diag.Range
}

// Span implements Node.
func (b *Block) Span() diag.Range { return b.Range }

// Body is the inside of a workflow, fragment or control node: attributes
// (such as max_concurrency or until) and the nodes, which run in order.
type Body struct {
	Attrs []*Attr
	Nodes []Stmt
	Range diag.Range // from "{" to "}" inclusive
}

// Span implements Node.
func (b *Body) Span() diag.Range { return b.Range }

// Stmt is a workflow node: *StepStmt, *ApprovalStmt, *SequenceStmt,
// *ParallelStmt, *MatchStmt, *BranchStmt, *LoopStmt, *ForStmt, *TimerStmt,
// *EventStmt, *WorktreeStmt, *UseStmt or *TryStmt.
type Stmt interface {
	Node
	stmt()
}

// StepStmt is one unit of work with exactly one action.
//
//	step analyze {
//	  output: Analysis
//	  agent  = reviewer
//	  prompt = "Review ${input.repo}"
//	  retry { attempts = 3 }
//	}
type StepStmt struct {
	KeywordRange diag.Range
	ID           Ident
	Output       TypeExpr // "output: T" or "output { ... }"; nil when absent
	Attrs        []*Attr
	Blocks       []*Block
	Range        diag.Range
}

// ApprovalStmt pauses the run for a person.
//
//	approval approve_high_risk { title = "Approve?", on_deny = "fail" }
type ApprovalStmt struct {
	KeywordRange diag.Range
	ID           Ident
	Output       TypeExpr // nil when absent
	Attrs        []*Attr
	Blocks       []*Block
	Range        diag.Range
}

// SequenceStmt is an explicit ordered group.
//
//	sequence { step a { value = 1 } step b { value = a + 1 } }
type SequenceStmt struct {
	KeywordRange diag.Range
	Body         *Body
	Range        diag.Range
}

// ParallelStmt runs its children concurrently.
//
//	parallel { max_concurrency = 2 ... }
type ParallelStmt struct {
	KeywordRange diag.Range
	Body         *Body
	Range        diag.Range
}

// MatchStmt runs the first arm whose predicate holds on a finished step.
//
//	match analyze {
//	  when analyze.risk == "high" { ... }
//	  else { ... }
//	}
type MatchStmt struct {
	KeywordRange diag.Range
	Source       Ident
	Arms         []*WhenArm
	Else         *ElseArm // nil when absent
	Range        diag.Range
}

// WhenArm is one arm of a match.
type WhenArm struct {
	KeywordRange diag.Range
	Pred         *Expr
	Body         *Body
	Range        diag.Range
}

// ElseArm is the else part of a match or branch.
type ElseArm struct {
	KeywordRange diag.Range
	Body         *Body
	Range        diag.Range
}

// BranchStmt is an if/else over any predicate.
//
//	branch input.deploy { ... } else { ... }
type BranchStmt struct {
	KeywordRange diag.Range
	Pred         *Expr
	Then         *Body
	Else         *ElseArm // nil when absent
	Range        diag.Range
}

// LoopStmt repeats its body until a predicate holds.
//
//	loop refine { until = evaluate.score >= 8, max_iterations = 5 ... }
type LoopStmt struct {
	KeywordRange diag.Range
	ID           Ident
	Body         *Body
	Range        diag.Range
}

// ForStmt fans out over a list.
//
//	for file in plan.files { max_concurrency = 4 ... }
type ForStmt struct {
	KeywordRange diag.Range
	Var          Ident
	List         *Expr
	Body         *Body
	Range        diag.Range
}

// TimerStmt is a durable sleep.
//
//	timer cool_down { duration = "10m" }
type TimerStmt struct {
	KeywordRange diag.Range
	ID           Ident
	Attrs        []*Attr
	Range        diag.Range
}

// EventStmt waits for an external signal.
//
//	event deployed { name = "deploy.finished", output { ok: bool } }
type EventStmt struct {
	KeywordRange diag.Range
	ID           Ident
	Output       TypeExpr // nil when absent
	Attrs        []*Attr
	Range        diag.Range
}

// WorktreeStmt runs its children in a git worktree.
//
//	worktree wt { path = "scratch/review", branch = "review" ... }
type WorktreeStmt struct {
	KeywordRange diag.Range
	ID           Ident
	Body         *Body
	Range        diag.Range
}

// UseStmt mounts a fragment; its ids become Prefix.id.
//
//	use review_shard("packages/api") as api
type UseStmt struct {
	KeywordRange diag.Range
	Fragment     Ident
	Args         []*Expr
	Prefix       Ident
	Range        diag.Range
}

// TryStmt runs Catch when Try fails and Finally either way.
//
//	try { ... } catch { ... } finally { ... }
type TryStmt struct {
	KeywordRange diag.Range
	Try          *Body
	Catch        *Body // nil when absent
	Finally      *Body // nil when absent
	CatchRange   diag.Range
	FinallyRange diag.Range
	Range        diag.Range
}

func (*StepStmt) stmt()     {}
func (*ApprovalStmt) stmt() {}
func (*SequenceStmt) stmt() {}
func (*ParallelStmt) stmt() {}
func (*MatchStmt) stmt()    {}
func (*BranchStmt) stmt()   {}
func (*LoopStmt) stmt()     {}
func (*ForStmt) stmt()      {}
func (*TimerStmt) stmt()    {}
func (*EventStmt) stmt()    {}
func (*WorktreeStmt) stmt() {}
func (*UseStmt) stmt()      {}
func (*TryStmt) stmt()      {}

// Span implements Node.
func (s *StepStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *ApprovalStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *SequenceStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *ParallelStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *MatchStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *WhenArm) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *ElseArm) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *BranchStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *LoopStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *ForStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *TimerStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *EventStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *WorktreeStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *UseStmt) Span() diag.Range { return s.Range }

// Span implements Node.
func (s *TryStmt) Span() diag.Range { return s.Range }
