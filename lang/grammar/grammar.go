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

// Name is an identifier with its position.
type Name struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Value  string `parser:"@Ident"`
}

// Str is a double- or triple-quoted string literal, quotes included.
type Str struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Raw    string `parser:"@String"`
}

// Value is an expression token.
type Value struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Src    string `parser:"@Expr"`
}

// Import is `import "file.smw"`.
type Import struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Path   *Str `parser:"\"import\" @@"`
}

// TypeDecl is `type Name { fields }`.
type TypeDecl struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *Name   `parser:"\"type\" @@"`
	Fields *Fields `parser:"@@"`
}

// Fields is a braced list of fields: `{ a: T, b?: U = 1 }`.
type Fields struct {
	Pos    lexer.Position
	EndPos lexer.Position
	List   []*Field `parser:"\"{\" ( @@ \",\"? )* \"}\""`
}

// Field is `name: T`, `name?: T` or `name: T = default`.
type Field struct {
	Pos      lexer.Position
	EndPos   lexer.Position
	Name     *Name  `parser:"@@"`
	Optional bool   `parser:"@\"?\"?"`
	Type     *Type  `parser:"\":\" @@"`
	Default  *Value `parser:"( \"=\" @@ )?"`
}

// Type is a written type: [T], { fields }, "a" | "b", or a name.
type Type struct {
	Pos    lexer.Position
	EndPos lexer.Position
	List   *Type   `parser:"\"[\" @@ \"]\""`
	Object *Fields `parser:"| @@"`
	Enum   []*Str  `parser:"| @@ ( \"|\" @@ )*"`
	Named  *Name   `parser:"| @@"`
}

// Agent is `agent NAME { attributes and blocks }`.
type Agent struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *Name   `parser:"\"agent\" @@"`
	Items  []*Item `parser:"\"{\" ( @@ \",\"? )* \"}\""`
}

// Item is an attribute `name = value` or a nested block
// `kind label? { items }` inside an agent, a step or a block. Key is a
// quoted attribute name (`"Content-Type" = "text/plain"`), which lang/parser
// accepts inside blocks only.
type Item struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *Name   `parser:"( @@"`
	Key    *Str    `parser:"| @@ )"`
	Label  *Name   `parser:"( @@?"`
	Open   bool    `parser:"  @\"{\""`
	Items  []*Item `parser:"  ( @@ \",\"? )* \"}\""`
	Value  *Value  `parser:"| \"=\" @@ )"`
}

// Attr is `name = value`.
type Attr struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *Name  `parser:"@@"`
	Value  *Value `parser:"\"=\" @@"`
}

// Fragment is `fragment NAME(params) { nodes }`.
type Fragment struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *Name    `parser:"\"fragment\" @@"`
	Params []*Field `parser:"\"(\" ( @@ \",\"? )* \")\""`
	Body   *Body    `parser:"@@"`
}

// Workflow is `workflow NAME { input {...}, attributes and nodes }`.
type Workflow struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Name   *Name         `parser:"\"workflow\" @@"`
	Body   *WorkflowBody `parser:"@@"`
}

// WorkflowBody is the braced inside of a workflow.
type WorkflowBody struct {
	Pos    lexer.Position
	EndPos lexer.Position
	Items  []*WorkflowItem `parser:"\"{\" ( @@ \",\"? )* \"}\""`
}

// WorkflowItem is one item of a workflow: its input schema, a node or an
// attribute.
type WorkflowItem struct {
	Input *Input `parser:"@@"`
	Node  *Node  `parser:"| @@"`
	Attr  *Attr  `parser:"| @@"`
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
	Items  []*BodyItem `parser:"\"{\" ( @@ \",\"? )* \"}\""`
}

// BodyItem is one item of a body: a node or an attribute.
type BodyItem struct {
	Node *Node `parser:"@@"`
	Attr *Attr `parser:"| @@"`
}
