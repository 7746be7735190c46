package parser

import (
	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/grammar"
)

// The fast path.
//
// Participle parses by reflection, with a branch context and a value
// per alternative tried: on a workflow of 10⁵ steps that was most of
// `smithc check`. fastParse builds the same tree directly from the
// tokens, following the grammar of lang/grammar production by
// production with participle's semantics (UseLookahead(0): the first
// alternative that consumes a token is the one taken; an untyped
// literal matches any token of that text; Pos is the first token's
// position and EndPos the position of the token after the construct).
// It does not report errors: at the first token that does not fit it
// gives up, and the caller parses with participle, which stays the
// definition of the language and the source of every syntax error.
// TestFastParseIsParticiple and FuzzFastParse check that both build the
// same tree and accept the same token lists.

// fastParse returns the tree participle builds from toks (which end
// with an EOF token), or false when participle would report an error.
func fastParse(toks []lexer.Token) (f *grammar.File, ok bool) {
	if len(toks) == 0 || toks[len(toks)-1].Type != lexer.EOF {
		return nil, false
	}
	p := &fastParser{toks: toks}
	defer func() {
		if r := recover(); r != nil {
			if _, is := r.(giveUp); !is {
				panic(r)
			}
			f, ok = nil, false
		}
	}()
	f = p.file()
	return f, true
}

// giveUp is the panic value that abandons the fast path.
type giveUp struct{}

type fastParser struct {
	toks []lexer.Token // ending with an EOF token, which is never consumed
	i    int
}

func (p *fastParser) pos() lexer.Position { return p.toks[p.i].Pos }

// is reports whether the next token matches the untyped literal s.
func (p *fastParser) is(s string) bool { return p.toks[p.i].Value == s }

// isType reports whether the next token has type t.
func (p *fastParser) isType(t lexer.TokenType) bool { return p.toks[p.i].Type == t }

func (p *fastParser) fail() { panic(giveUp{}) }

// lit consumes the untyped literal s.
func (p *fastParser) lit(s string) {
	if !p.is(s) {
		p.fail()
	}
	p.i++
}

// token consumes a token of type t and returns it.
func (p *fastParser) token(t lexer.TokenType) *lexer.Token {
	tok := &p.toks[p.i]
	if tok.Type != t {
		p.fail()
	}
	p.i++
	return tok
}

// more counts a repetition: participle refuses more than MaxIterations
// matches of one.
func more(n int) {
	if n >= participle.MaxIterations {
		panic(giveUp{})
	}
}

// File = Decl* .
func (p *fastParser) file() *grammar.File {
	f := &grammar.File{Pos: p.pos()}
	for {
		var d *grammar.Decl
		switch {
		case p.is("import"):
			d = &grammar.Decl{Import: p.importDecl()}
		case p.is("type"):
			d = &grammar.Decl{Type: p.typeDecl()}
		case p.is("agent"):
			d = &grammar.Decl{Agent: p.agent()}
		case p.is("fragment"):
			d = &grammar.Decl{Fragment: p.fragment()}
		case p.is("workflow"):
			d = &grammar.Decl{Workflow: p.workflow()}
		}
		if d == nil {
			break
		}
		more(len(f.Decls))
		f.Decls = append(f.Decls, d)
	}
	if !p.isType(lexer.EOF) {
		p.fail()
	}
	f.EndPos = p.pos()
	return f
}

// Import = "import" <string> .
func (p *fastParser) importDecl() *grammar.Import {
	g := &grammar.Import{Pos: p.pos()}
	p.lit("import")
	g.Path = p.token(grammar.String)
	g.EndPos = p.pos()
	return g
}

// TypeDecl = "type" <ident> Fields .
func (p *fastParser) typeDecl() *grammar.TypeDecl {
	g := &grammar.TypeDecl{Pos: p.pos()}
	p.lit("type")
	g.Name = p.token(grammar.Ident)
	g.Fields = p.fields()
	g.EndPos = p.pos()
	return g
}

// Fields = "{" Field* "}" .
func (p *fastParser) fields() *grammar.Fields {
	g := &grammar.Fields{Pos: p.pos()}
	p.lit("{")
	g.List = p.fieldList(g.List)
	p.lit("}")
	g.EndPos = p.pos()
	return g
}

// fieldList parses Field* .
func (p *fastParser) fieldList(list []*grammar.Field) []*grammar.Field {
	for p.isType(grammar.Ident) {
		more(len(list))
		list = append(list, p.field())
	}
	return list
}

// Field = <ident> "?"? ":" Type ("=" <expr>)? .
func (p *fastParser) field() *grammar.Field {
	g := &grammar.Field{Pos: p.pos()}
	g.Name = p.token(grammar.Ident)
	if p.is("?") {
		p.i++
		g.Optional = true
	}
	p.lit(":")
	g.Type = p.typ()
	if p.is("=") {
		p.i++
		g.Default = p.token(grammar.Expr)
	}
	g.EndPos = p.pos()
	return g
}

// Type = ("[" Type "]") | Fields | (Str ("|" Str)*) | <ident> .
func (p *fastParser) typ() *grammar.Type {
	g := &grammar.Type{Pos: p.pos()}
	switch {
	case p.is("["):
		p.i++
		g.List = p.typ()
		p.lit("]")
	case p.is("{"):
		g.Object = p.fields()
	case p.isType(grammar.String):
		g.Enum = append(g.Enum, p.str())
		for p.is("|") {
			p.i++
			more(len(g.Enum) - 1)
			g.Enum = append(g.Enum, p.str())
		}
	case p.isType(grammar.Ident):
		g.Named = p.token(grammar.Ident)
	default:
		p.fail()
	}
	g.EndPos = p.pos()
	return g
}

// Str = <string> .
func (p *fastParser) str() *grammar.Str {
	g := &grammar.Str{Pos: p.pos()}
	g.Raw = p.token(grammar.String).Value
	g.EndPos = p.pos()
	return g
}

// Agent = "agent" <ident> "{" Item* "}" .
func (p *fastParser) agent() *grammar.Agent {
	g := &grammar.Agent{Pos: p.pos()}
	p.lit("agent")
	g.Name = p.token(grammar.Ident)
	p.lit("{")
	g.Items = p.items(g.Items)
	p.lit("}")
	g.EndPos = p.pos()
	return g
}

// items parses Item* .
func (p *fastParser) items(list []*grammar.Item) []*grammar.Item {
	for p.isType(grammar.Ident) || p.isType(grammar.String) {
		more(len(list))
		list = append(list, p.item())
	}
	return list
}

// Item = (<ident> | <string>) ((<ident>? "{" Item* "}") | ("=" <expr>)) .
func (p *fastParser) item() *grammar.Item {
	g := &grammar.Item{Pos: p.pos()}
	if p.isType(grammar.Ident) {
		g.Name = p.token(grammar.Ident)
	} else {
		g.Key = p.token(grammar.String)
	}
	switch {
	case p.isType(grammar.Ident) || p.is("{"):
		if p.isType(grammar.Ident) {
			g.Label = p.token(grammar.Ident)
		}
		p.lit("{")
		g.Open = true
		g.Items = p.items(g.Items)
		p.lit("}")
	case p.is("="):
		p.i++
		g.Value = p.token(grammar.Expr)
	default:
		p.fail()
	}
	g.EndPos = p.pos()
	return g
}

// Attr = <ident> "=" <expr> .
func (p *fastParser) attr() *grammar.Attr {
	g := &grammar.Attr{Pos: p.pos()}
	g.Name = p.token(grammar.Ident)
	p.lit("=")
	g.Value = p.token(grammar.Expr)
	g.EndPos = p.pos()
	return g
}

// Fragment = "fragment" <ident> "(" Field* ")" Body .
func (p *fastParser) fragment() *grammar.Fragment {
	g := &grammar.Fragment{Pos: p.pos()}
	p.lit("fragment")
	g.Name = p.token(grammar.Ident)
	p.lit("(")
	g.Params = p.fieldList(g.Params)
	p.lit(")")
	g.Body = p.body()
	g.EndPos = p.pos()
	return g
}

// Body = "{" BodyItem* "}" .
// BodyItem = Attr | Node .
func (p *fastParser) body() *grammar.Body {
	g := &grammar.Body{Pos: p.pos()}
	p.lit("{")
	for {
		var it *grammar.BodyItem
		if p.isType(grammar.Ident) {
			it = &grammar.BodyItem{Attr: p.attr()}
		} else if n := p.node(); n != nil {
			it = &grammar.BodyItem{Node: n}
		} else {
			break
		}
		more(len(g.Items))
		g.Items = append(g.Items, it)
	}
	p.lit("}")
	g.EndPos = p.pos()
	return g
}

// node parses a Node, or returns nil when the next token starts none.
//
// Node = Step | Approval | Sequence | Parallel | Match | Branch | Loop | For | Timer | Event | Worktree | Use | Try .
func (p *fastParser) node() *grammar.Node {
	switch {
	case p.is("step"):
		return &grammar.Node{Step: p.step()}
	case p.is("approval"):
		return &grammar.Node{Approval: p.approval()}
	case p.is("sequence"):
		g := &grammar.Sequence{Pos: p.pos()}
		p.i++
		g.Body = p.body()
		g.EndPos = p.pos()
		return &grammar.Node{Sequence: g}
	case p.is("parallel"):
		g := &grammar.Parallel{Pos: p.pos()}
		p.i++
		g.Body = p.body()
		g.EndPos = p.pos()
		return &grammar.Node{Parallel: g}
	case p.is("match"):
		return &grammar.Node{Match: p.match()}
	case p.is("branch") && p.isType(grammar.Keyword):
		return &grammar.Node{Branch: p.branch()}
	case p.is("loop"):
		g := &grammar.Loop{Pos: p.pos()}
		p.i++
		g.ID = p.token(grammar.Ident)
		g.Body = p.body()
		g.EndPos = p.pos()
		return &grammar.Node{Loop: g}
	case p.is("for"):
		g := &grammar.For{Pos: p.pos()}
		p.i++
		g.Var = p.token(grammar.Ident)
		p.lit("in")
		g.List = p.token(grammar.Expr)
		g.Body = p.body()
		g.EndPos = p.pos()
		return &grammar.Node{For: g}
	case p.is("timer"):
		return &grammar.Node{Timer: p.timer()}
	case p.is("event"):
		return &grammar.Node{Event: p.event()}
	case p.is("worktree"):
		g := &grammar.Worktree{Pos: p.pos()}
		p.i++
		g.ID = p.token(grammar.Ident)
		g.Body = p.body()
		g.EndPos = p.pos()
		return &grammar.Node{Worktree: g}
	case p.is("use"):
		return &grammar.Node{Use: p.use()}
	case p.is("try"):
		return &grammar.Node{Try: p.try()}
	}
	return nil
}

// Step = "step" <ident> "{" StepItem* "}" .
func (p *fastParser) step() *grammar.Step {
	g := &grammar.Step{Pos: p.pos()}
	p.lit("step")
	g.ID = p.token(grammar.Ident)
	g.Items = p.stepItems()
	g.EndPos = p.pos()
	return g
}

// Approval = "approval" <ident> "{" StepItem* "}" .
func (p *fastParser) approval() *grammar.Approval {
	g := &grammar.Approval{Pos: p.pos()}
	p.lit("approval")
	g.ID = p.token(grammar.Ident)
	g.Items = p.stepItems()
	g.EndPos = p.pos()
	return g
}

// stepItems parses "{" StepItem* "}" .
//
// StepItem = Output | Item .
func (p *fastParser) stepItems() []*grammar.StepItem {
	var list []*grammar.StepItem
	p.lit("{")
	for {
		var it *grammar.StepItem
		switch {
		case p.is("output"):
			it = &grammar.StepItem{Output: p.output()}
		case p.isType(grammar.Ident) || p.isType(grammar.String):
			it = &grammar.StepItem{Item: p.item()}
		}
		if it == nil {
			break
		}
		more(len(list))
		list = append(list, it)
	}
	p.lit("}")
	return list
}

// Output = "output" ((":" Type) | Fields) .
func (p *fastParser) output() *grammar.Output {
	g := &grammar.Output{Pos: p.pos()}
	p.lit("output")
	switch {
	case p.is(":"):
		p.i++
		g.Type = p.typ()
	case p.is("{"):
		g.Fields = p.fields()
	default:
		p.fail()
	}
	g.EndPos = p.pos()
	return g
}

// Match = "match" <ident> "{" When* Else? "}" .
// When = "when" <expr> Body .
func (p *fastParser) match() *grammar.Match {
	g := &grammar.Match{Pos: p.pos()}
	p.lit("match")
	g.Source = p.token(grammar.Ident)
	p.lit("{")
	for p.is("when") && p.isType(grammar.Keyword) {
		w := &grammar.When{Pos: p.pos()}
		p.i++
		w.Pred = p.token(grammar.Expr)
		w.Body = p.body()
		w.EndPos = p.pos()
		more(len(g.Arms))
		g.Arms = append(g.Arms, w)
	}
	if p.is("else") {
		g.Else = p.elseClause()
	}
	p.lit("}")
	g.EndPos = p.pos()
	return g
}

// Else = "else" Body .
func (p *fastParser) elseClause() *grammar.Else {
	g := &grammar.Else{Pos: p.pos()}
	p.lit("else")
	g.Body = p.body()
	g.EndPos = p.pos()
	return g
}

// Branch = "branch" <expr> Body Else? .
func (p *fastParser) branch() *grammar.Branch {
	g := &grammar.Branch{Pos: p.pos()}
	p.i++ // "branch", a Keyword
	g.Pred = p.token(grammar.Expr)
	g.Then = p.body()
	if p.is("else") {
		g.Else = p.elseClause()
	}
	g.EndPos = p.pos()
	return g
}

// Timer = "timer" <ident> "{" Attr* "}" .
func (p *fastParser) timer() *grammar.Timer {
	g := &grammar.Timer{Pos: p.pos()}
	p.lit("timer")
	g.ID = p.token(grammar.Ident)
	p.lit("{")
	for p.isType(grammar.Ident) {
		more(len(g.Attrs))
		g.Attrs = append(g.Attrs, p.attr())
	}
	p.lit("}")
	g.EndPos = p.pos()
	return g
}

// Event = "event" <ident> "{" EventItem* "}" .
// EventItem = Output | Attr .
func (p *fastParser) event() *grammar.Event {
	g := &grammar.Event{Pos: p.pos()}
	p.lit("event")
	g.ID = p.token(grammar.Ident)
	p.lit("{")
	for {
		var it *grammar.EventItem
		switch {
		case p.is("output"):
			it = &grammar.EventItem{Output: p.output()}
		case p.isType(grammar.Ident):
			it = &grammar.EventItem{Attr: p.attr()}
		}
		if it == nil {
			break
		}
		more(len(g.Items))
		g.Items = append(g.Items, it)
	}
	p.lit("}")
	g.EndPos = p.pos()
	return g
}

// Use = "use" <ident> "(" Value* ")" "as" <ident> .
// Value = <expr> .
func (p *fastParser) use() *grammar.Use {
	g := &grammar.Use{Pos: p.pos()}
	p.lit("use")
	g.Fragment = p.token(grammar.Ident)
	p.lit("(")
	for p.isType(grammar.Expr) {
		v := &grammar.Value{Pos: p.pos()}
		v.Src = p.token(grammar.Expr).Value
		v.EndPos = p.pos()
		more(len(g.Args))
		g.Args = append(g.Args, v)
	}
	p.lit(")")
	p.lit("as")
	g.Prefix = p.token(grammar.Ident)
	g.EndPos = p.pos()
	return g
}

// Try = "try" Body Catch? Finally? .
// Catch = "catch" Body .
// Finally = "finally" Body .
func (p *fastParser) try() *grammar.Try {
	g := &grammar.Try{Pos: p.pos()}
	p.lit("try")
	g.Body = p.body()
	if p.is("catch") {
		c := &grammar.Catch{Pos: p.pos()}
		p.i++
		c.Body = p.body()
		c.EndPos = p.pos()
		g.Catch = c
	}
	if p.is("finally") {
		f := &grammar.Finally{Pos: p.pos()}
		p.i++
		f.Body = p.body()
		f.EndPos = p.pos()
		g.Finally = f
	}
	g.EndPos = p.pos()
	return g
}

// Workflow = "workflow" <ident> WorkflowBody .
// WorkflowBody = "{" WorkflowItem* "}" .
// WorkflowItem = Attr | Input | Budget | Node .
// Input = "input" Fields .
// Budget = "budget" Body .
func (p *fastParser) workflow() *grammar.Workflow {
	g := &grammar.Workflow{Pos: p.pos()}
	p.lit("workflow")
	g.Name = p.token(grammar.Ident)
	b := &grammar.WorkflowBody{Pos: p.pos()}
	p.lit("{")
	for {
		var it *grammar.WorkflowItem
		switch {
		case p.isType(grammar.Ident):
			it = &grammar.WorkflowItem{Attr: p.attr()}
		case p.is("input"):
			in := &grammar.Input{Pos: p.pos()}
			p.i++
			in.Fields = p.fields()
			in.EndPos = p.pos()
			it = &grammar.WorkflowItem{Input: in}
		case p.is("budget"):
			bu := &grammar.Budget{Pos: p.pos()}
			p.i++
			bu.Body = p.body()
			bu.EndPos = p.pos()
			it = &grammar.WorkflowItem{Budget: bu}
		default:
			if n := p.node(); n != nil {
				it = &grammar.WorkflowItem{Node: n}
			}
		}
		if it == nil {
			break
		}
		more(len(b.Items))
		b.Items = append(b.Items, it)
	}
	p.lit("}")
	b.EndPos = p.pos()
	g.Body = b
	g.EndPos = p.pos()
	return g
}
