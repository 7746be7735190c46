package stdlib

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/schema"
)

// A run template is parsed as a shell script, with a placeholder word in
// place of each interpolation, by mvdan.cc/sh in both POSIX and bash modes
// (/bin/sh may be dash or bash). Every node on the path from the script
// down to a placeholder is decided explicitly: the interpolation is quoted
// for its position (slotKind), allowed only for an integer (arithmetic), or
// refused with a reason. A node type that is not named below is refused.

// slotKind is how an interpolated value is written into the script.
type slotKind uint8

const (
	slotWord    slotKind = iota // unquoted, part of a word: quoted words
	slotSingle                  // inside '...': quotes escaped
	slotDouble                  // inside "...": a quoted word between closed double quotes
	slotArith                   // an operand of shell arithmetic: a decimal integer
	slotTestInt                 // an operand of [[ -eq ]] and the like: a decimal integer
)

// shellSlot is the decision for one interpolation.
type shellSlot struct {
	kind slotKind
	// bare: the interpolation is a word by itself, not before a < or >,
	// so a value that needs no quotes may be left bare (elsewhere 5 could
	// join 5>file into a redirection of file descriptor 5).
	bare bool
	// paren: a negative integer is written in parentheses, (-5), so that
	// 1-${n} does not read as 1--5 (only where both shells read
	// arithmetic: elsewhere a parenthesis would end the word).
	paren bool
	// list: a list may stand here, one word per element (a whole word in
	// a command's arguments, a for loop's items, an array's elements):
	// no number of words, zero included, changes how the script parses.
	list bool
}

// shellProblem is an interpolation (index, or -1 for the whole script)
// that cannot be made safe, and why.
type shellProblem struct {
	index     int
	msg, hint string
}

func (p *shellProblem) Error() string { return p.msg }

// templateError names the interpolation a run-time refusal is about.
type templateError struct{ src, msg string }

func (e *templateError) Error() string { return "${" + e.src + "}: " + e.msg }

const hintEnv = "pass the value through env { NAME = ... } and write \"$NAME\" in the script"

// maxShellInterpolations bounds the work of classifying one template.
const maxShellInterpolations = 10000

// planShell decides every interpolation of a template whose literal parts
// are lits (len(lits) == interpolations+1).
func planShell(lits []string) ([]shellSlot, *shellProblem) {
	n := len(lits) - 1
	if n > maxShellInterpolations {
		return nil, &shellProblem{index: -1, msg: fmt.Sprintf("the script has %d interpolations, more than the %d a run template may have", n, maxShellInterpolations),
			hint: "build the data into a file or an environment variable instead"}
	}
	for _, l := range lits {
		if strings.IndexByte(l, 0) >= 0 {
			return nil, &shellProblem{index: -1, msg: "the script contains a NUL byte, which no process argument can carry", hint: "remove it"}
		}
	}
	prefix := placeholderPrefix(lits)
	var src strings.Builder
	offsets := make([]int, n)
	for i, l := range lits {
		src.WriteString(l)
		if i < n {
			offsets[i] = src.Len()
			src.WriteString(prefix + strconv.Itoa(i) + "_")
		}
	}
	s := src.String()
	var results [2][]slotResult
	for m, lang := range []syntax.LangVariant{syntax.LangPOSIX, syntax.LangBash} {
		f, err := syntax.NewParser(syntax.Variant(lang), syntax.KeepComments(true)).Parse(strings.NewReader(s), "")
		if err != nil {
			p := syntaxProblem(err, lang)
			p.msg = regexp.MustCompile(regexp.QuoteMeta(prefix)+`[0-9]+_`).ReplaceAllString(p.msg, "$${...}")
			return nil, p
		}
		results[m] = classifyShell(f, prefix, n, offsets)
	}
	slots := make([]shellSlot, n)
	for i := range slots {
		slot, p := combineSlots(results[0][i], results[1][i])
		if p != nil {
			p.index = i
			return nil, p
		}
		if end := offsets[i] + len(prefix) + len(strconv.Itoa(i)) + 1; end < len(s) && (s[end] == '<' || s[end] == '>') {
			slot.bare = false
		}
		slots[i] = slot
	}
	return slots, nil
}

// placeholderPrefix returns a word prefix that occurs in no literal part.
func placeholderPrefix(lits []string) string {
	prefix := "SmithcQ"
	for {
		clash := false
		for _, l := range lits {
			if strings.Contains(l, prefix) {
				clash = true
				break
			}
		}
		if !clash {
			return prefix
		}
		prefix += "Q"
	}
}

// syntaxProblem describes a parse error of the script.
func syntaxProblem(err error, lang syntax.LangVariant) *shellProblem {
	var le syntax.LangError
	if errors.As(err, &le) {
		return &shellProblem{index: -1,
			msg: fmt.Sprintf("the script uses %s, which POSIX sh does not have (line %d): /bin/sh may be dash, which cannot run it, and where its interpolations land cannot be known",
				le.Feature, le.Pos.Line()),
			hint: `write POSIX sh, or run bash with the values as arguments: exec = ["bash", "-c", "script using \"$1\"", "bash", value]`}
	}
	var pe syntax.ParseError
	if errors.As(err, &pe) {
		return &shellProblem{index: -1, msg: fmt.Sprintf("shell syntax error at line %d of the script (as %s reads it): %s", pe.Pos.Line(), langName(lang), pe.Text),
			hint: "fix the script; smithc reads it as /bin/sh would, with a placeholder word for each ${...}"}
	}
	return &shellProblem{index: -1, msg: fmt.Sprintf("the script cannot be parsed (as %s reads it): %v", langName(lang), err)}
}

func langName(lang syntax.LangVariant) string {
	if lang == syntax.LangBash {
		return "bash"
	}
	return "POSIX sh"
}

// slotResult is one parse's decision for one interpolation.
type slotResult struct {
	slot  shellSlot
	found int
	prob  *shellProblem
}

// combineSlots joins the POSIX and bash decisions: a refusal by either
// wins; an integer slot in one and an unquoted word in the other is an
// integer (a decimal integer is a safe word); any other disagreement is
// refused.
func combineSlots(p, b slotResult) (shellSlot, *shellProblem) {
	for _, r := range []slotResult{b, p} {
		switch {
		case r.prob != nil:
			return shellSlot{}, &shellProblem{msg: r.prob.msg, hint: r.prob.hint}
		case r.found != 1:
			return shellSlot{}, &shellProblem{msg: "cannot tell where the value lands in the script", hint: hintEnv}
		}
	}
	x, y := p.slot, b.slot
	isInt := func(k slotKind) bool { return k == slotArith || k == slotTestInt }
	switch {
	case x.kind == y.kind:
		return shellSlot{kind: x.kind, bare: x.bare && y.bare, list: x.list && y.list, paren: x.kind == slotArith}, nil
	case isInt(x.kind) && y.kind == slotWord:
		return shellSlot{kind: x.kind}, nil
	case isInt(y.kind) && x.kind == slotWord:
		return shellSlot{kind: y.kind}, nil
	}
	return shellSlot{}, &shellProblem{msg: "dash and bash read this position differently", hint: hintEnv}
}

var placeholderRE = lazyRegexp(`^[0-9]+_`)

// classifyShell decides each placeholder found in a parsed script.
func classifyShell(f *syntax.File, prefix string, n int, offsets []int) []slotResult {
	res := make([]slotResult, n)
	var stack []syntax.Node
	// $'...' holding \' is read by bash as an escaped quote and by dash
	// as the end of the string: nothing after it can be placed.
	ansiFrom := -1
	syntax.Walk(f, func(node syntax.Node) bool {
		if node == nil {
			stack = stack[:len(stack)-1]
			return true
		}
		stack = append(stack, node)
		var text string
		switch x := node.(type) {
		case *syntax.Lit:
			text = x.Value
		case *syntax.SglQuoted:
			text = x.Value
			if x.Dollar && strings.Contains(x.Value, `\'`) && (ansiFrom < 0 || int(x.Pos().Offset()) < ansiFrom) {
				ansiFrom = int(x.Pos().Offset())
			}
		case *syntax.Comment:
			text = x.Text
		default:
			return true
		}
		for off := 0; ; {
			j := strings.Index(text[off:], prefix)
			if j < 0 {
				break
			}
			at := off + j
			m := placeholderRE().FindString(text[at+len(prefix):])
			off = at + len(prefix)
			if m == "" {
				continue
			}
			i, err := strconv.Atoi(m[:len(m)-1])
			if err != nil || i >= n {
				continue
			}
			off += len(m)
			r := &res[i]
			r.found++
			if r.prob == nil {
				r.slot, r.prob = decideSlot(stack, text, at, prefix+m)
			}
		}
		return true
	})
	if ansiFrom >= 0 {
		for i := range res {
			if offsets[i] > ansiFrom && res[i].prob == nil {
				res[i].prob = &shellProblem{msg: `after a \' inside $'...', where bash and dash disagree on where the quoted text ends`,
					hint: `write the quote another way, for example "'"`}
			}
		}
	}
	return res
}

// Builtins that read an argument as a variable name: bash evaluates an
// array subscript in a name (a[$(cmd)]), so a value there runs code.
var nameBuiltins = map[string]bool{
	"read": true, "unset": true, "getopts": true, "mapfile": true, "readarray": true, "let": true,
	"declare": true, "typeset": true, "local": true, "export": true, "readonly": true, "nameref": true,
}

// decideSlot decides the placeholder ph found at byte at of text, the
// text of the last node of stack (a *Lit, *SglQuoted or *Comment).
func decideSlot(stack []syntax.Node, text string, at int, ph string) (shellSlot, *shellProblem) {
	refuse := func(msg, hint string) (shellSlot, *shellProblem) {
		return shellSlot{}, &shellProblem{msg: msg, hint: hint}
	}
	leaf := stack[len(stack)-1]
	if _, ok := leaf.(*syntax.Comment); ok {
		return refuse("inside a shell comment", "move the ${...} out of the comment")
	}
	arith, testInt, dq := false, false, false
	listOK := false       // the word is in a position where a list may stand
	var word *syntax.Word // the innermost word holding the placeholder
	for k := 0; k+1 < len(stack); k++ {
		child := stack[k+1]
		switch p := stack[k].(type) {
		case *syntax.File, *syntax.Subshell, *syntax.Block, *syntax.IfClause, *syntax.WhileClause,
			*syntax.BinaryCmd, *syntax.TimeClause:
			// statement lists: the child is a statement, a clause or a comment
		case *syntax.Stmt:
			// its command, redirections or comments
		case *syntax.CallExpr:
			w, ok := child.(*syntax.Word)
			if !ok {
				break // an assignment
			}
			idx := wordIndex(p.Args, w)
			name, first := commandName(p.Args)
			if idx > first && nameBuiltins[name] {
				return refuse(fmt.Sprintf("an argument of %s, which bash reads as a variable name (evaluating a[...] subscripts)", name),
					"assign the value to a variable first (NAME=${...}), or "+hintEnv)
			}
			if idx > first && (name == "printf" && hasLitArg(p.Args, "-v") || (name == "test" || name == "[") && (hasLitArg(p.Args, "-v") || hasLitArg(p.Args, "-R"))) {
				return refuse(fmt.Sprintf("an argument of %s -v, which bash reads as a variable name", name), hintEnv)
			}
			listOK = idx >= 1
		case *syntax.Assign:
			switch {
			case child == p.Name:
				return refuse("the name of a variable", "interpolate the value, not the name: NAME=${...}")
			case p.Index != nil && child == syntax.Node(p.Index):
				arith = true
			}
			listOK = false
		case *syntax.ArrayExpr:
		case *syntax.ArrayElem:
			if p.Index != nil && child == syntax.Node(p.Index) {
				arith = true
			}
			listOK = p.Index == nil
		case *syntax.Redirect:
			switch {
			case p.N != nil && child == syntax.Node(p.N):
				return refuse("the file descriptor of a redirection", "")
			case p.Hdoc != nil && child == syntax.Node(p.Hdoc):
				return refuse("inside a here-document body", hintEnv)
			case p.Op == syntax.Hdoc || p.Op == syntax.DashHdoc:
				return refuse("the delimiter of a here-document", "")
			}
			listOK = false
		case *syntax.ForClause:
		case *syntax.WordIter:
			if child == syntax.Node(p.Name) {
				return refuse("the variable name of a for loop", "")
			}
			listOK = true
		case *syntax.CStyleLoop, *syntax.ArithmCmd, *syntax.LetClause:
			arith = true
		case *syntax.FuncDecl:
			if _, ok := child.(*syntax.Lit); ok {
				return refuse("the name of a function", "")
			}
		case *syntax.CaseClause, *syntax.CaseItem:
			listOK = false
		case *syntax.TestClause, *syntax.ParenTest:
			listOK = false
		case *syntax.BinaryTest:
			switch p.Op {
			case syntax.TsEql, syntax.TsNeq, syntax.TsLeq, syntax.TsGeq, syntax.TsLss, syntax.TsGtr:
				testInt = true
			}
		case *syntax.UnaryTest:
			if p.Op == syntax.TsVarSet || p.Op == syntax.TsRefVar {
				return refuse("the operand of [[ -v ]] or [[ -R ]], which bash reads as a variable name", hintEnv)
			}
		case *syntax.DeclClause:
			return refuse(fmt.Sprintf("an argument of %s, which bash evaluates for arrays, integer and nameref variables", p.Variant.Value),
				"assign first and declare separately: NAME=${...}; "+p.Variant.Value+" NAME")
		case *syntax.BinaryArithm:
			if isAssignArith(p.Op) && child == syntax.Node(p.X) {
				return refuse("the variable assigned in arithmetic", "")
			}
		case *syntax.UnaryArithm:
			if p.Op == syntax.Inc || p.Op == syntax.Dec {
				return refuse("the variable incremented in arithmetic", "")
			}
		case *syntax.ParenArithm:
		case *syntax.Word:
			word = p
		case *syntax.DblQuoted:
			if p.Dollar {
				return refuse(`inside $"..."`, `use "..."`)
			}
			dq = true
		case *syntax.SglQuoted:
		case *syntax.CmdSubst:
			if p.Backquotes {
				return refuse("inside `...`", "use $( ... ) instead")
			}
			if arith {
				return refuse("inside a command substitution within arithmetic, which the shell reads as double-quoted text", hintEnv)
			}
			dq, listOK = false, false
		case *syntax.ProcSubst:
			if arith {
				return refuse("inside a process substitution within arithmetic", hintEnv)
			}
			dq, listOK = false, false
		case *syntax.ArithmExp:
			arith = true
		case *syntax.ParamExp:
			switch {
			case p.Index != nil && child == syntax.Node(p.Index),
				p.Slice != nil && (child == syntax.Node(p.Slice.Offset) || child == syntax.Node(p.Slice.Length)):
				arith = true
			case p.Param != nil && child == syntax.Node(p.Param):
				return refuse("right after '$'", "write $$ for a literal dollar sign, or remove the $")
			default:
				return refuse("inside a ${...} parameter expansion", hintEnv)
			}
		default:
			return refuse(fmt.Sprintf("inside %s, where smithc does not place values", nodeName(p)), hintEnv)
		}
	}
	switch l := leaf.(type) {
	case *syntax.SglQuoted:
		if l.Dollar {
			return refuse("inside $'...'", "use '...' or \"...\"")
		}
		if arith {
			return refuse("inside quotes within arithmetic", "interpolate an int value as a whole operand: $(( ${n} + 1 ))")
		}
		return shellSlot{kind: slotSingle}, nil
	case *syntax.Lit:
		if oddBackslashes(text[:at]) {
			return refuse("right after a backslash", "remove the backslash")
		}
		exact := text == ph
		switch {
		case arith:
			if !exact || !wholeOperand(stack) {
				return refuse("inside arithmetic, where only a whole int operand may stand (the shell reads arithmetic as double-quoted text, so quotes do not protect a value)",
					"interpolate an int value as a whole operand: $(( ${n} + 1 ))")
			}
			return shellSlot{kind: slotArith}, nil
		case testInt:
			if !exact || dq || word == nil || len(word.Parts) != 1 {
				return refuse("an operand of an arithmetic test, glued to other text", "interpolate an int value as a whole operand: [[ ${n} -gt 5 ]]")
			}
			return shellSlot{kind: slotTestInt}, nil
		case dq:
			return shellSlot{kind: slotDouble}, nil
		}
		whole := exact && word != nil && len(word.Parts) == 1
		return shellSlot{kind: slotWord, bare: whole, list: whole && listOK}, nil
	}
	return refuse("cannot tell where the value lands in the script", hintEnv)
}

// wholeOperand reports whether the placeholder ending stack is a whole
// word of arithmetic: $(( ${n} )) or $(( "${n}" )).
func wholeOperand(stack []syntax.Node) bool {
	i := len(stack) - 2
	if dq, ok := stack[i].(*syntax.DblQuoted); ok && len(dq.Parts) == 1 {
		i--
	}
	w, ok := stack[i].(*syntax.Word)
	return ok && len(w.Parts) == 1
}

func isAssignArith(op syntax.BinAritOperator) bool {
	switch op {
	case syntax.Assgn, syntax.AddAssgn, syntax.SubAssgn, syntax.MulAssgn, syntax.QuoAssgn, syntax.RemAssgn,
		syntax.AndAssgn, syntax.OrAssgn, syntax.XorAssgn, syntax.ShlAssgn, syntax.ShrAssgn,
		syntax.AndBoolAssgn, syntax.OrBoolAssgn, syntax.XorBoolAssgn, syntax.PowAssgn:
		return true
	}
	return false
}

func wordIndex(ws []*syntax.Word, w *syntax.Word) int {
	for i, x := range ws {
		if x == w {
			return i
		}
	}
	return -1
}

// commandName returns the literal name of the command run by args, looking
// through command and builtin, and the index of the word naming it.
func commandName(args []*syntax.Word) (string, int) {
	for i, w := range args {
		switch name := w.Lit(); name {
		case "command", "builtin":
			continue
		default:
			return name, i
		}
	}
	return "", len(args)
}

func hasLitArg(args []*syntax.Word, lit string) bool {
	for _, w := range args {
		if w.Lit() == lit {
			return true
		}
	}
	return false
}

func oddBackslashes(s string) bool {
	n := 0
	for i := len(s) - 1; i >= 0 && s[i] == '\\'; i-- {
		n++
	}
	return n%2 == 1
}

// nodeName names a node type for a message.
func nodeName(n syntax.Node) string {
	switch n.(type) {
	case *syntax.ExtGlob:
		return "an extended glob @(...)"
	case *syntax.CoprocClause:
		return "a coproc"
	case *syntax.BraceExp:
		return "a brace expansion"
	}
	return strings.TrimPrefix(fmt.Sprintf("%T", n), "*syntax.")
}

// shellPlanFor returns the plan of a template's parts, or an error naming
// the interpolation that cannot be made safe.
func shellPlanFor(parts []ir.TemplatePart) ([]shellSlot, error) {
	lits := []string{""}
	var exprs []*ir.Expr
	for _, p := range parts {
		if p.Expr == nil {
			lits[len(lits)-1] += p.Lit
			continue
		}
		exprs = append(exprs, p.Expr)
		lits = append(lits, "")
	}
	slots, p := planShell(lits)
	if p == nil {
		return slots, nil
	}
	msg := p.msg
	if p.hint != "" {
		msg += "; " + p.hint
	}
	if p.index < 0 || p.index >= len(exprs) {
		return nil, errors.New(msg)
	}
	return nil, &templateError{src: exprs[p.index].Src, msg: msg}
}

// checkShellTemplate is the shell action's CheckTemplateFunc: before the
// run, it reports what planShell would refuse, and an interpolation whose
// type cannot stand where it is (a string in arithmetic, a list that is
// not a whole word).
func checkShellTemplate(lits []string, types []*schema.Type) []schema.TemplateProblem {
	slots, p := planShell(lits)
	if p != nil {
		if p.index < 0 && len(lits) == 1 && !unparsable(lits[0]) {
			// A script without interpolations that some shell can run
			// (bash-only syntax) is left to the shell, as before.
			return nil
		}
		return []schema.TemplateProblem{{Index: p.index, Summary: p.msg, Hint: p.hint}}
	}
	var out []schema.TemplateProblem
	for i, s := range slots {
		var t *schema.Type
		if i < len(types) {
			t = types[i]
		}
		if t == nil {
			continue
		}
		switch {
		case (s.kind == slotArith || s.kind == slotTestInt) && t.Kind != schema.Int:
			out = append(out, schema.TemplateProblem{Index: i,
				Summary: fmt.Sprintf("only an int value can stand here (%s), and this one is %s", intPlace(s.kind), t.Structure()),
				Hint:    "interpolate an int-typed value (int(x) converts one), or pass the value through env { NAME = ... } and check it in the script"})
		case t.Kind == schema.List && !s.list:
			out = append(out, schema.TemplateProblem{Index: i,
				Summary: "a list must stand as whole words: a separate argument of a command, an item of for ... in, or an array element (an empty list would change how the script parses here)",
				Hint:    `separate it with spaces, or join it into one word: join(list, " ")`})
		}
	}
	return out
}

// unparsable reports whether no shell can parse script (bash accepts more
// than POSIX sh).
func unparsable(script string) bool {
	_, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(script), "")
	return err != nil
}

func intPlace(k slotKind) string {
	if k == slotTestInt {
		return "an operand of an arithmetic test such as [[ -eq ]]"
	}
	return "inside arithmetic: $(( )), (( )), let or an array subscript"
}
