package grammar

import "github.com/alecthomas/participle/v2/lexer"

// File is a whole .smw file: a list of declarations.
type File struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Decls  []*Decl `parser:"@@*"`
}

// Decl is one top-level declaration.
type Decl struct {
	Import   *Import   `parser:"@@"`
	Type     *TypeDecl `parser:"| @@"`
	Agent    *Agent    `parser:"| @@"`
	Fragment *Fragment `parser:"| @@"`
	Workflow *Workflow `parser:"| @@"`
}

// Str is a double- or triple-quoted string literal, quotes included (an
// enum value).
type Str struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Raw    string `parser:"@String"`
}

// Value is an expression token (an argument of use).
type Value struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Src    string `parser:"@Expr"`
}

// Import is `import "file.smw"`.
type Import struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Path   *lexer.Token `parser:"\"import\" @String"`
}

// TypeDecl is `type Name { fields }`.
type TypeDecl struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *lexer.Token `parser:"\"type\" @Ident"`
	Fields *Fields      `parser:"@@"`
}

// Fields is a braced list of fields: `{ a: T, b?: U = 1 }`.
type Fields struct {
	Pos    lexer.Position
	EndPos lexer.Position
	List   []*Field `parser:"\"{\" ( @@ )* \"}\""`
}

// Field is `name: T`, `name?: T` or `name: T = default`.
type Field struct {
	Pos      lexer.Position
	EndPos   lexer.Position
	Name     *lexer.Token `parser:"@Ident"`
	Optional bool         `parser:"@\"?\"?"`
	Type     *Type        `parser:"\":\" @@"`
	Default  *lexer.Token `parser:"( \"=\" @Expr )?"`
}

// Type is a written type: [T], { fields }, "a" | "b", or a name.
type Type struct {
	Pos    lexer.Position
	EndPos lexer.Position
	List   *Type        `parser:"\"[\" @@ \"]\""`
	Object *Fields      `parser:"| @@"`
	Enum   []*Str       `parser:"| @@ ( \"|\" @@ )*"`
	Named  *lexer.Token `parser:"| @Ident"`
}

// Agent is `agent NAME { attributes and blocks }`.
type Agent struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *lexer.Token `parser:"\"agent\" @Ident"`
	Items  []*Item      `parser:"\"{\" ( @@ )* \"}\""`
}

// Item is an attribute `name = value` or a nested block
// `kind label? { items }` inside an agent, a step or a block. Key is a
// quoted attribute name (`"Content-Type" = "text/plain"`), which lang/parser
// accepts inside blocks only.
type Item struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *lexer.Token `parser:"( @Ident"`
	Key    *lexer.Token `parser:"| @String )"`
	Label  *lexer.Token `parser:"( @Ident?"`
	Open   bool         `parser:"  @\"{\""`
	Items  []*Item      `parser:"  ( @@ )* \"}\""`
	Value  *lexer.Token `parser:"| \"=\" @Expr )"`
}

// Attr is `name = value`.
type Attr struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *lexer.Token `parser:"@Ident"`
	Value  *lexer.Token `parser:"\"=\" @Expr"`
}

// Fragment is `fragment NAME(params) { nodes }`.
type Fragment struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *lexer.Token `parser:"\"fragment\" @Ident"`
	Params []*Field     `parser:"\"(\" ( @@ )* \")\""`
	Body   *Body        `parser:"@@"`
}

// Workflow is `workflow NAME { input {...}, attributes and nodes }`.
type Workflow struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *lexer.Token  `parser:"\"workflow\" @Ident"`
	Body   *WorkflowBody `parser:"@@"`
}

// WorkflowBody is the braced inside of a workflow.
type WorkflowBody struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Items  []*WorkflowItem `parser:"\"{\" ( @@ )* \"}\""`
}

// WorkflowItem is one item of a workflow: its input schema, a node or an
// attribute.
type WorkflowItem struct {
	Attr   *Attr   `parser:"@@"`
	Input  *Input  `parser:"| @@"`
	Budget *Budget `parser:"| @@"`
	Node   *Node   `parser:"| @@"`
}

// Budget is a workflow's `budget { tokens = N, cost_usd = X }`.
type Budget struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Body   *Body `parser:"\"budget\" @@"`
}

// Input is a workflow's `input { fields }`.
type Input struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Fields *Fields `parser:"\"input\" @@"`
}

// Body is a braced list of attributes and nodes.
type Body struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Items  []*BodyItem `parser:"\"{\" ( @@ )* \"}\""`
}

// BodyItem is one item of a body: a node or an attribute.
type BodyItem struct {
	Attr *Attr `parser:"@@"`
	Node *Node `parser:"| @@"`
}
