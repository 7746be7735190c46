package parser

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/alecthomas/participle/v2"
	"github.com/alecthomas/participle/v2/lexer"

	"github.com/smithc/smithc/lang/diag"
	"github.com/smithc/smithc/lang/grammar"
)

// nodeKeywords are the words that start a workflow node.
var nodeKeywords = []string{"step", "approval", "sequence", "parallel", "match", "branch", "loop", "for", "timer", "event", "worktree", "use", "try"}

// errContext is what the translation of a participle error knows about
// the place of the error.
type errContext struct {
	file    string
	sig     []lexer.Token // significant tokens before the offending one
	tok     lexer.Token   // the offending token
	next    lexer.Token   // the token after it (EOF if none)
	expect  string        // participle's expectation, EBNF
	openTok lexer.Token   // innermost unclosed "{", if any
	open    string        // its description, "" if none
}

// syntaxDiag translates a participle error into one diagnostic whose
// subject is the offending token, phrased as what the user should write.
func syntaxDiag(filename string, toks []lexer.Token, err error) diag.Diagnostic {
	var perr participle.Error
	if !errors.As(err, &perr) {
		return diag.Errorf(diag.Range{File: filename}, "syntax", "%v", err)
	}
	c := &errContext{file: filename}
	at := perr.Position().Offset
	var ute *participle.UnexpectedTokenError
	if errors.As(err, &ute) {
		at = ute.Unexpected.Pos.Offset
		msg := ute.Message()
		if i := strings.Index(msg, " (expected "); i >= 0 {
			c.expect = strings.TrimSuffix(msg[i+len(" (expected "):], ")")
		}
	}
	c.locate(toks, at)
	if d, ok := c.badName(toks); ok {
		return d
	}
	subject := c.tokRange(c.tok)
	msg, subj := c.message()
	if subj != nil {
		subject = *subj
	}
	d := diag.Errorf(subject, "syntax", "%s", msg)
	if subj != nil && strings.HasPrefix(msg, "unknown node kind") {
		d.Hint = suggest(c.sig[len(c.sig)-1].Value, nodeKeywords)
	}
	return d
}

// locate finds the offending token at byte offset at and its context.
func (c *errContext) locate(toks []lexer.Token, at int) {
	var opens []int // indexes into c.sig of unclosed "{"
	c.tok = toks[len(toks)-1]
	c.next = c.tok
	for i, t := range toks {
		if t.Pos.Offset >= at || t.Type == lexer.EOF {
			c.tok = t
			if i+1 < len(toks) {
				c.next = toks[i+1]
			}
			break
		}
		if t.Type == grammar.Punct {
			switch t.Value {
			case "{":
				opens = append(opens, len(c.sig))
			case "}":
				if len(opens) > 0 {
					opens = opens[:len(opens)-1]
				}
			}
		}
		c.sig = append(c.sig, t)
	}
	if len(opens) > 0 {
		j := opens[len(opens)-1]
		c.openTok = c.sig[j]
		c.open = describeOpen(c.sig[:j])
	}
}

// describeOpen names the construct whose "{" follows the tokens before.
func describeOpen(before []lexer.Token) string {
	at := func(k int) lexer.Token {
		if k <= len(before) && k > 0 {
			return before[len(before)-k]
		}
		return lexer.Token{}
	}
	b1, b2 := at(1), at(2)
	switch {
	case b1.Type == grammar.Expr && (b2.Value == "when" || b2.Value == "branch"):
		return b2.Value
	case b1.Type == grammar.Expr && b2.Value == "in":
		return "for"
	case b1.Type == grammar.Punct && b1.Value == ")":
		return "fragment"
	case b1.Type == grammar.Punct && (b1.Value == ":" || b1.Value == "[" || b1.Value == "{" || b1.Value == ","):
		return "object type"
	case b1.Type == grammar.Ident && (b2.Type == grammar.Keyword || b2.Type == grammar.Ident) && b2.Value != "in":
		return b2.Value
	case b1.Type == grammar.Ident || b1.Type == grammar.Keyword || b1.Type == grammar.String:
		return b1.Value
	}
	return "block"
}

// contents says what may appear inside the construct named by open.
func contents(open string) string {
	switch open {
	case "type", "input", "output", "object type":
		return "a field"
	case "workflow", "sequence", "parallel", "loop", "worktree", "try", "catch", "finally", "else", "when", "branch", "for", "fragment":
		return "an attribute, a node"
	case "match":
		return `"when", "else"`
	case "timer", "event":
		return "an attribute"
	}
	return "an attribute, a block"
}

func (c *errContext) tokRange(t lexer.Token) diag.Range {
	start := pos(t.Pos)
	v := t.Value
	if i := strings.IndexByte(v, '\n'); i >= 0 {
		v = v[:i]
	}
	return diag.Range{File: c.file, Start: start, End: advance(start, v)}
}

// quote renders the offending token for a message.
func quote(t lexer.Token) string {
	if t.Type == lexer.EOF {
		return "end of file"
	}
	v := t.Value
	if i := strings.IndexByte(v, '\n'); i >= 0 {
		v = v[:i] + "…"
	}
	if utf8.RuneCountInString(v) > 24 {
		r := []rune(v)
		v = string(r[:24]) + "…"
	}
	return fmt.Sprintf("%q", v)
}

func (c *errContext) prev() lexer.Token {
	if len(c.sig) == 0 {
		return lexer.Token{}
	}
	return c.sig[len(c.sig)-1]
}

func (c *errContext) closeHint() string {
	if c.open == "" {
		return ""
	}
	return fmt.Sprintf(" to close the %s block opened at %d:%d", c.open, c.openTok.Pos.Line, c.openTok.Pos.Column)
}

// message phrases the error. A non-nil range replaces the subject.
func (c *errContext) message() (string, *diag.Range) {
	unexpected := "unexpected " + quote(c.tok)
	p := c.prev()
	exp := c.expect
	switch {
	case c.tok.Type == lexer.EOF && c.open != "":
		return `unexpected end of file, expected "}"` + c.closeHint(), nil
	case exp == "":
		if c.open == "" {
			return unexpected + ", expected a declaration: import, type, agent, fragment or workflow", nil
		}
		return unexpected, nil
	case strings.HasPrefix(exp, `"}"`):
		if c.open == "" {
			return unexpected + `, expected "}"`, nil
		}
		return fmt.Sprintf(`%s, expected %s or "}"%s`, unexpected, contents(c.open), c.closeHint()), nil
	case strings.HasPrefix(exp, `"="`):
		if isNodeContext(c.open) && p.Type == grammar.Ident && isBlockKind(p.Value) && c.tok.Value == "{" {
			r := c.tokRange(p)
			return fmt.Sprintf("a %q block is not allowed in a %s block: it belongs inside a step", p.Value, c.open), &r
		}
		if isNodeContext(c.open) && p.Type == grammar.Ident && (c.tok.Type == grammar.Ident || c.tok.Value == "{" || c.tok.Value == "(") {
			r := c.tokRange(p)
			return fmt.Sprintf("unknown node kind %q, expected a node or an attribute \"name = value\"", p.Value), &r
		}
		return fmt.Sprintf(`%s, expected "=" after %q`, unexpected, p.Value), nil
	case strings.HasPrefix(exp, `"{" Item*`):
		return fmt.Sprintf(`%s, expected "=" or "{" after %q`, unexpected, p.Value), nil
	case strings.HasPrefix(exp, "<expr>"):
		switch {
		case p.Value == "when" || p.Value == "branch":
			return fmt.Sprintf("%s, expected a predicate after %q", unexpected, p.Value), nil
		case p.Value == "in":
			return unexpected + `, expected a list expression after "in"`, nil
		case p.Value == "=":
			return unexpected + `, expected a value after "="`, nil
		}
		return unexpected + ", expected an expression", nil
	case strings.HasPrefix(exp, "<ident>"):
		what := "a name"
		switch p.Value {
		case "step", "approval", "loop", "timer", "event", "worktree":
			what = "an id"
		case "as":
			what = "a prefix"
		case "for":
			what = "a variable name"
		case "use":
			what = "a fragment name"
		case "match":
			what = "the name of a step"
		}
		return fmt.Sprintf("%s, expected %s after %q", unexpected, what, p.Value), nil
	case strings.HasPrefix(exp, "Body"), strings.HasPrefix(exp, "Fields"), strings.HasPrefix(exp, "WorkflowBody"):
		return fmt.Sprintf(`%s, expected "{" after %q`, unexpected, p.Value), nil
	case strings.HasPrefix(exp, `":" Type`):
		return fmt.Sprintf(`%s, expected ":" and a type after field name %q`, unexpected, p.Value), nil
	case strings.HasPrefix(exp, `((":" Type) | Fields)`):
		return fmt.Sprintf(`%s, expected ": Type" or a "{ name: Type … }" block of fields after %q`, unexpected, p.Value), nil
	case strings.HasPrefix(exp, "Type"):
		return fmt.Sprintf("%s, expected a type after %q", unexpected, p.Value), nil
	case strings.HasPrefix(exp, "<string>") && p.Value == "import":
		return unexpected + `, expected a quoted path after "import"`, nil
	case strings.HasPrefix(exp, `"as"`):
		return unexpected + `, expected "as" and a prefix after the arguments of "use"`, nil
	case strings.HasPrefix(exp, `"in"`):
		return fmt.Sprintf(`%s, expected "in" after the loop variable %q`, unexpected, p.Value), nil
	case strings.HasPrefix(exp, `":"`), strings.HasPrefix(exp, `"{"`), strings.HasPrefix(exp, `"("`), strings.HasPrefix(exp, `")"`), strings.HasPrefix(exp, `"]"`):
		want := exp[:strings.Index(exp[1:], `"`)+2]
		return fmt.Sprintf("%s, expected %s after %q", unexpected, want, p.Value), nil
	}
	if strings.ContainsAny(exp, "()|*?") {
		// A grammar production, not words for a person: say where instead.
		return fmt.Sprintf("%s after %q%s", unexpected, p.Value, c.closeHint()), nil
	}
	return fmt.Sprintf("%s, expected %s", unexpected, exp), nil
}

func isBlockKind(w string) bool {
	switch w {
	case "retry", "cache", "env", "http", "headers", "call", "openai":
		return true
	}
	return false
}

func isNodeContext(open string) bool {
	return strings.HasPrefix(contents(open), "an attribute, a node")
}

// suggest returns a "did you mean" hint for word among candidates.
func suggest(word string, candidates []string) string {
	best, bestD := "", 3
	for _, c := range candidates {
		if d := levenshtein(word, c); d < bestD {
			best, bestD = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf("did you mean %q?", best)
}

func levenshtein(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

// nameRule is the form every id and name must have.
const nameRule = "[A-Za-z_][A-Za-z0-9_]*"

// badName recognises a name written with characters a name cannot have,
// such as step build-docs or step größe: the lexer splits it into a name
// and punctuation glued together. It reports the whole word, the rule,
// and the word made valid.
func (c *errContext) badName(toks []lexer.Token) (diag.Diagnostic, bool) {
	invalid := func(t lexer.Token) bool {
		if t.Type != grammar.Punct || t.Value == "" {
			return false
		}
		r, _ := utf8.DecodeRuneInString(t.Value)
		return t.Value == "-" || r >= utf8.RuneSelf && unicode.IsLetter(r)
	}
	glued := func(a, b lexer.Token) bool { return a.Pos.Offset+len(a.Value) == b.Pos.Offset }
	if !invalid(c.tok) {
		return diag.Diagnostic{}, false
	}
	// The word starts at the name glued before the offending token, or
	// at the token itself (step über).
	i := len(c.sig) // index in toks of the offending token
	first := i
	if p := c.prev(); p.Type == grammar.Ident && glued(p, c.tok) {
		first = i - 1
	} else if c.tok.Value == "-" {
		return diag.Diagnostic{}, false // a minus after a name and a space is something else
	}
	last := i
	for last+1 < len(toks) && glued(toks[last], toks[last+1]) &&
		(toks[last+1].Type == grammar.Ident || invalid(toks[last+1]) || toks[last+1].Type == grammar.Expr && isDigits(toks[last+1].Value)) {
		last++
	}
	var word strings.Builder
	for _, t := range toks[first : last+1] {
		word.WriteString(t.Value)
	}
	what, kind := "name", "names"
	if first > 0 {
		switch toks[first-1].Value {
		case "step", "approval", "loop", "timer", "event", "worktree":
			what, kind = "id", "ids"
		case "as":
			what, kind = "mount prefix", "prefixes"
		}
	}
	r := diag.Range{File: c.file, Start: pos(toks[first].Pos), End: advance(pos(toks[last].Pos), toks[last].Value)}
	d := diag.Errorf(r, "syntax", "%q is not a valid %s: %s are %s", word.String(), what, kind, nameRule)
	d.Hint = fmt.Sprintf("did you mean %q?", validName(word.String()))
	return d, true
}

func isDigits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return s != ""
}

// transliterations spell common accented letters in ASCII.
var transliterations = map[rune]string{
	'ä': "ae", 'ö': "oe", 'ü': "ue", 'Ä': "Ae", 'Ö': "Oe", 'Ü': "Ue", 'ß': "ss",
	'á': "a", 'à': "a", 'â': "a", 'å': "a", 'ã': "a", 'æ': "ae", 'ç': "c",
	'é': "e", 'è': "e", 'ê': "e", 'ë': "e", 'í': "i", 'ì': "i", 'î': "i", 'ï': "i",
	'ñ': "n", 'ó': "o", 'ò': "o", 'ô': "o", 'õ': "o", 'ø': "o", 'œ': "oe",
	'ú': "u", 'ù': "u", 'û': "u", 'ý': "y", 'ÿ': "y",
}

// validName turns word into a valid name: accented letters spelt in
// ASCII, anything else invalid replaced by "_".
func validName(word string) string {
	var b strings.Builder
	for _, r := range word {
		switch {
		case r == '_' || r < utf8.RuneSelf && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			b.WriteRune(r)
		case transliterations[r] != "":
			b.WriteString(transliterations[r])
		default:
			b.WriteByte('_')
		}
	}
	out := b.String()
	if out == "" || out[0] >= '0' && out[0] <= '9' {
		out = "_" + out
	}
	return out
}
