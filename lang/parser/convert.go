package parser

import (
	"unicode/utf8"

	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// converter turns participle's tree into lang/ast. Every grammar pointer
// may be nil in a partial tree (after a syntax error), so every method
// tolerates nil input.
type converter struct {
	file  string
	src   string
	toks  *grammar.Tokens
	diags diag.Diagnostics
}

func (c *converter) errorf(r diag.Range, code, format string, args ...any) {
	c.diags = append(c.diags, diag.Errorf(r, code, format, args...))
}

// rng is the range from start to the end of the last token before next,
// participle's EndPos (the position of the token after a construct). An
// unknown end (a construct cut short by a syntax error) gives an empty
// range at start.
func (c *converter) rng(start, next lexer.Position) diag.Range {
	s := pos(start)
	if next.Line == 0 {
		return diag.Range{File: c.file, Start: s, End: s}
	}
	e := pos(c.toks.EndBefore(next.Offset))
	if e.Offset < s.Offset {
		e = s
	}
	return diag.Range{File: c.file, Start: s, End: e}
}

// word is the range of n ASCII bytes (a keyword or identifier) at p.
func (c *converter) word(p lexer.Position, n int) diag.Range {
	s := pos(p)
	e := diag.Pos{Offset: s.Offset + n, Line: s.Line, Col: s.Col + n}
	return diag.Range{File: c.file, Start: s, End: e}
}

func (c *converter) ident(t *lexer.Token) ast.Ident {
	if t == nil {
		return ast.Ident{}
	}
	return ast.Ident{Name: t.Value, Range: c.word(t.Pos, len(t.Value))}
}

// tokRange is the range of a token's text.
func (c *converter) tokRange(t *lexer.Token) diag.Range {
	s := pos(t.Pos)
	return diag.Range{File: c.file, Start: s, End: advance(s, t.Value)}
}

func (c *converter) convertFile(g *grammar.File) *ast.File {
	f := &ast.File{Name: c.file}
	start := diag.Pos{Offset: 0, Line: 1, Col: 1}
	f.Range = diag.Range{File: c.file, Start: start, End: advance(start, c.src)}
	if g == nil {
		return f
	}
	for _, d := range g.Decls {
		if d == nil {
			continue
		}
		var out ast.Decl
		switch {
		case d.Import != nil:
			out = c.importDecl(d.Import)
		case d.Type != nil:
			out = c.typeDecl(d.Type)
		case d.Agent != nil:
			out = c.agentDecl(d.Agent)
		case d.Fragment != nil:
			out = c.fragmentDecl(d.Fragment)
		case d.Workflow != nil:
			out = c.workflowDecl(d.Workflow)
		default:
			continue
		}
		f.Decls = append(f.Decls, out)
	}
	return f
}

func (c *converter) importDecl(g *grammar.Import) *ast.ImportDecl {
	d := &ast.ImportDecl{KeywordRange: c.word(g.Pos, len("import")), Range: c.rng(g.Pos, g.EndPos)}
	if g.Path != nil {
		d.PathRange = c.tokRange(g.Path)
		d.Path = c.literal(g.Path.Value, g.Path.Pos, "an import path")
	}
	return d
}

func (c *converter) typeDecl(g *grammar.TypeDecl) *ast.TypeDecl {
	d := &ast.TypeDecl{KeywordRange: c.word(g.Pos, len("type")), Name: c.ident(g.Name), Range: c.rng(g.Pos, g.EndPos)}
	if g.Fields != nil {
		d.Fields = c.fields(g.Fields.List)
	}
	return d
}

func (c *converter) agentDecl(g *grammar.Agent) *ast.AgentDecl {
	d := &ast.AgentDecl{KeywordRange: c.word(g.Pos, len("agent")), Name: c.ident(g.Name), Range: c.rng(g.Pos, g.EndPos)}
	d.Attrs, d.Blocks = c.items(g.Items, false)
	return d
}

func (c *converter) fragmentDecl(g *grammar.Fragment) *ast.FragmentDecl {
	d := &ast.FragmentDecl{KeywordRange: c.word(g.Pos, len("fragment")), Name: c.ident(g.Name), Range: c.rng(g.Pos, g.EndPos)}
	d.Params = c.fields(g.Params)
	for _, p := range d.Params {
		if p.Default != nil {
			c.errorf(p.Default.Range, "syntax", "a fragment parameter cannot have a default value")
		}
	}
	d.Body = c.body(g.Body)
	return d
}

func (c *converter) workflowDecl(g *grammar.Workflow) *ast.WorkflowDecl {
	d := &ast.WorkflowDecl{KeywordRange: c.word(g.Pos, len("workflow")), Name: c.ident(g.Name), Range: c.rng(g.Pos, g.EndPos)}
	if g.Body == nil {
		return d
	}
	d.Body = &ast.Body{Range: c.rng(g.Body.Pos, g.Body.EndPos)}
	for _, it := range g.Body.Items {
		switch {
		case it == nil:
		case it.Input != nil:
			in := &ast.InputDecl{KeywordRange: c.word(it.Input.Pos, len("input")), Range: c.rng(it.Input.Pos, it.Input.EndPos)}
			if it.Input.Fields != nil {
				in.Fields = c.fields(it.Input.Fields.List)
			}
			if d.Input != nil {
				c.errorf(in.KeywordRange, "duplicate", "duplicate input block in workflow %q", d.Name.Name)
				continue
			}
			d.Input = in
		case it.Budget != nil:
			b := &ast.Block{Kind: ast.Ident{Name: "budget", Range: c.word(it.Budget.Pos, len("budget"))}, Range: c.rng(it.Budget.Pos, it.Budget.EndPos)}
			if it.Budget.Body != nil {
				body := c.body(it.Budget.Body)
				b.Attrs = body.Attrs
				for _, n := range body.Nodes {
					c.errorf(n.Span(), "syntax", "a budget block holds only tokens = N and cost_usd = X")
				}
			}
			if d.Budget != nil {
				c.errorf(b.Kind.Range, "duplicate", "duplicate budget block in workflow %q", d.Name.Name)
				continue
			}
			d.Budget = b
		case it.Node != nil:
			if n := c.node(it.Node); n != nil {
				d.Body.Nodes = append(d.Body.Nodes, n)
			}
		case it.Attr != nil:
			d.Body.Attrs = append(d.Body.Attrs, c.attr(it.Attr))
		}
	}
	return d
}

func (c *converter) fields(gs []*grammar.Field) []*ast.Field {
	var out []*ast.Field
	for _, g := range gs {
		if g == nil {
			continue
		}
		f := &ast.Field{Name: c.ident(g.Name), Optional: g.Optional, Range: c.rng(g.Pos, g.EndPos)}
		f.Type = c.typeExpr(g.Type)
		f.Default = c.expr(g.Default)
		out = append(out, f)
	}
	return out
}

func (c *converter) typeExpr(g *grammar.Type) ast.TypeExpr {
	if g == nil {
		return nil
	}
	r := c.rng(g.Pos, g.EndPos)
	switch {
	case g.List != nil:
		return &ast.ListType{Elem: c.typeExpr(g.List), Range: r}
	case g.Object != nil:
		return &ast.ObjectType{Fields: c.fields(g.Object.List), Range: r}
	case len(g.Enum) > 0:
		t := &ast.EnumType{Range: r}
		for _, s := range g.Enum {
			if s == nil {
				continue
			}
			v := c.literal(s.Raw, s.Pos, "an enum value")
			t.Values = append(t.Values, ast.EnumValue{Value: v, Range: c.rng(s.Pos, s.EndPos)})
		}
		return t
	case g.Named != nil:
		return &ast.NamedType{Name: g.Named.Value, Range: c.tokRange(g.Named)}
	}
	return nil
}

func (c *converter) attr(g *grammar.Attr) *ast.Attr {
	return &ast.Attr{Name: c.ident(g.Name), Value: c.expr(g.Value), Range: c.rng(g.Pos, g.EndPos)}
}

// items splits attributes and nested blocks. Quoted attribute names are
// accepted only when quoted is set (inside blocks).
func (c *converter) items(gs []*grammar.Item, quoted bool) (attrs []*ast.Attr, blocks []*ast.Block) {
	for _, g := range gs {
		if g == nil {
			continue
		}
		name := c.ident(g.Name)
		if g.Key != nil {
			name = ast.Ident{Name: c.literal(g.Key.Value, g.Key.Pos, "an attribute name"), Range: c.tokRange(g.Key)}
			if !quoted || g.Open {
				c.errorf(name.Range, "syntax", "a quoted name is only allowed for an attribute inside a block such as headers or env")
			}
		}
		r := c.rng(g.Pos, g.EndPos)
		if g.Open {
			b := &ast.Block{Kind: name, Range: r}
			if g.Label != nil {
				l := c.ident(g.Label)
				b.Label = &l
			}
			b.Attrs, b.Blocks = c.items(g.Items, true)
			blocks = append(blocks, b)
			continue
		}
		attrs = append(attrs, &ast.Attr{Name: name, Value: c.expr(g.Value), Range: r})
	}
	return attrs, blocks
}

// expr converts an expression token; a value that is exactly one double-
// or triple-quoted string literal also gets its template.
func (c *converter) expr(t *lexer.Token) *ast.Expr {
	if t == nil {
		return nil
	}
	src := t.Value
	start := pos(t.Pos)
	e := &ast.Expr{Src: src, Range: diag.Range{File: c.file, Start: start, End: advance(start, src)}}
	if len(src) > 0 && src[0] == '"' && grammar.StringEnd(src, 0) == len(src) {
		e.Template = c.template(src, start)
	}
	return e
}

// literal decodes the string literal raw at p, which may not
// interpolate, such as an import path or an enum value.
func (c *converter) literal(raw string, p lexer.Position, what string) string {
	t := c.template(raw, pos(p))
	if t == nil {
		return ""
	}
	v, ok := t.IsLiteral()
	if !ok {
		for _, p := range t.Parts {
			if p.Expr != nil {
				c.errorf(p.Expr.Range, "syntax", "%s cannot contain an interpolation", what)
				break
			}
		}
	}
	return v
}

// advance returns the position after text, text starting at p.
// Columns count runes; an invalid UTF-8 byte counts as one rune.
func advance(p diag.Pos, text string) diag.Pos {
	for i := 0; i < len(text); {
		c := text[i]
		switch {
		case c == '\n':
			p.Line++
			p.Col = 1
			i++
		case c < utf8.RuneSelf:
			p.Col++
			i++
		default:
			_, size := utf8.DecodeRuneInString(text[i:])
			p.Col++
			i += size
		}
	}
	p.Offset += len(text)
	return p
}
