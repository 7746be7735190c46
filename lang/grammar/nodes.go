package grammar

import "github.com/alecthomas/participle/v2/lexer"

// Node is one workflow node; each starts with its own keyword.
type Node struct {
	Step     *Step     `parser:"@@"`
	Approval *Approval `parser:"| @@"`
	Sequence *Sequence `parser:"| @@"`
	Parallel *Parallel `parser:"| @@"`
	Match    *Match    `parser:"| @@"`
	Branch   *Branch   `parser:"| @@"`
	Loop     *Loop     `parser:"| @@"`
	For      *For      `parser:"| @@"`
	Timer    *Timer    `parser:"| @@"`
	Event    *Event    `parser:"| @@"`
	Worktree *Worktree `parser:"| @@"`
	Use      *Use      `parser:"| @@"`
	Try      *Try      `parser:"| @@"`
}

// Step is `step ID { output, attributes, blocks }`.
type Step struct {
	Pos    lexer.Position
	EndPos lexer.Position
	ID     *lexer.Token `parser:"\"step\" @Ident"`
	Items  []*StepItem  `parser:"\"{\" ( @@ )* \"}\""`
}

// Approval is `approval ID { output, attributes, blocks }`.
type Approval struct {
	Pos    lexer.Position
	EndPos lexer.Position
	ID     *lexer.Token `parser:"\"approval\" @Ident"`
	Items  []*StepItem  `parser:"\"{\" ( @@ )* \"}\""`
}

// StepItem is one item of a step or approval: an output schema, a
// nested block or an attribute.
type StepItem struct {
	Output *Output `parser:"@@"`
	Item   *Item   `parser:"| @@"`
}

// Output is `output: T` or `output { fields }`.
type Output struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Type   *Type   `parser:"\"output\" ( \":\" @@"`
	Fields *Fields `parser:"| @@ )"`
}

// Sequence is `sequence { ... }`.
type Sequence struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Body   *Body `parser:"\"sequence\" @@"`
}

// Parallel is `parallel { ... }`.
type Parallel struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Body   *Body `parser:"\"parallel\" @@"`
}

// Match is `match SOURCE { when PRED { ... } ... else { ... } }`.
type Match struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Source *lexer.Token `parser:"\"match\" @Ident \"{\""`
	Arms   []*When      `parser:"( @@ )*"`
	Else   *Else        `parser:"( @@ )? \"}\""`
}

// When is one arm of a match: `when PRED { ... }`.
type When struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Pred   *lexer.Token `parser:"\"when\":Keyword @Expr"`
	Body   *Body        `parser:"@@"`
}

// Else is `else { ... }` of a match or branch.
type Else struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Body   *Body `parser:"\"else\" @@"`
}

// Branch is `branch PRED { ... } else { ... }`.
type Branch struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Pred   *lexer.Token `parser:"\"branch\":Keyword @Expr"`
	Then   *Body        `parser:"@@"`
	Else   *Else        `parser:"@@?"`
}

// Loop is `loop ID { ... }`.
type Loop struct {
	Pos    lexer.Position
	EndPos lexer.Position
	ID     *lexer.Token `parser:"\"loop\" @Ident"`
	Body   *Body        `parser:"@@"`
}

// For is `for NAME in LIST { ... }`.
type For struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Var    *lexer.Token `parser:"\"for\" @Ident"`
	List   *lexer.Token `parser:"\"in\" @Expr"`
	Body   *Body        `parser:"@@"`
}

// Timer is `timer ID { attributes }`.
type Timer struct {
	Pos    lexer.Position
	EndPos lexer.Position
	ID     *lexer.Token `parser:"\"timer\" @Ident"`
	Attrs  []*Attr      `parser:"\"{\" ( @@ )* \"}\""`
}

// Event is `event ID { output, attributes }`.
type Event struct {
	Pos    lexer.Position
	EndPos lexer.Position
	ID     *lexer.Token `parser:"\"event\" @Ident"`
	Items  []*EventItem `parser:"\"{\" ( @@ )* \"}\""`
}

// EventItem is an output schema or an attribute of an event.
type EventItem struct {
	Output *Output `parser:"@@"`
	Attr   *Attr   `parser:"| @@"`
}

// Worktree is `worktree ID { ... }`.
type Worktree struct {
	Pos    lexer.Position
	EndPos lexer.Position
	ID     *lexer.Token `parser:"\"worktree\" @Ident"`
	Body   *Body        `parser:"@@"`
}

// Use is `use FRAGMENT(args) as PREFIX`.
type Use struct {
	Pos      lexer.Position
	EndPos   lexer.Position
	Fragment *lexer.Token `parser:"\"use\" @Ident"`
	Args     []*Value     `parser:"\"(\" ( @@ )* \")\""`
	Prefix   *lexer.Token `parser:"\"as\" @Ident"`
}

// Try is `try { ... } catch { ... } finally { ... }`.
type Try struct {
	Pos     lexer.Position
	EndPos  lexer.Position
	Body    *Body    `parser:"\"try\" @@"`
	Catch   *Catch   `parser:"@@?"`
	Finally *Finally `parser:"@@?"`
}

// Catch is the `catch { ... }` clause of a try.
type Catch struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Body   *Body `parser:"\"catch\" @@"`
}

// Finally is the `finally { ... }` clause of a try.
type Finally struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Body   *Body `parser:"\"finally\" @@"`
}
