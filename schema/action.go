package schema

// ActionSpec declares a step action to the checker: which attributes and
// blocks select it, what it accepts, and what it outputs by default. The
// standard library provides the specs of its actions (stdlib.Specs) and
// the CLI hands them to the checker, which never imports stdlib.
//
// Attributes every step has whatever its action (needs, timeout, retry,
// heartbeat_timeout, skip_if, cache, continue_on_fail, description,
// output) belong to the language and are not listed here.
type ActionSpec struct {
	Name string // "compute", "shell", "http", "agent", "call"

	// Selectors are the attribute or block names whose presence in a step
	// selects this action ("run" and "exec" select shell; the block "http"
	// selects http). A step must select exactly one action.
	Selectors []string

	Attrs  []AttrSpec  // attributes written directly in the step
	Blocks []BlockSpec // blocks written directly in the step

	// Output is the default output type. Nil means the checker computes
	// it: compute outputs its value's type, call its workflow's output.
	Output *Type
	// ParsesDeclaredOutput is true when, given a declared output type, the
	// action produces a value of that type itself (shell parses stdout as
	// JSON, an agent is asked for JSON of that schema). When false a
	// declared output must fit the default one.
	ParsesDeclaredOutput bool

	// Doc is one sentence for docs and hints.
	Doc string
}

// AttrSpec declares one attribute.
type AttrSpec struct {
	Name     string
	Type     *Type // expected type of the value; AnyType accepts anything
	Required bool
	Const    bool   // a graph attribute: must be a constant the checker evaluates
	Ref      string // "agent": the value names an agent declaration; "" for a value
	Doc      string

	// CheckTemplateFunc, when set, vets a template written for this
	// attribute before it runs: lits are its literal parts around the
	// interpolations (len(lits) == interpolations+1), types the checked
	// type of each interpolation (nil where unknown). It returns what it
	// refuses or warns about (the shell action refuses an interpolation
	// inside a here-document or a comment, and a script that does not
	// parse). It is also called for a template without interpolations.
	CheckTemplateFunc func(lits []string, types []*Type) []TemplateProblem `json:"-"`
}

// TemplateProblem is what a CheckTemplateFunc reports.
type TemplateProblem struct {
	Index   int    // the interpolation it is about, or -1 for the whole template
	Warning bool   // a warning, not an error
	Summary string // what is wrong, without the interpolation's text
	Hint    string // what to do, or ""
}

// BlockSpec declares one nested block.
type BlockSpec struct {
	Name     string
	Label    string // non-empty when the block takes a label, named so in messages ("workflow" for call)
	Required bool
	Attrs    []AttrSpec
	Blocks   []BlockSpec
	// FreeForm, when non-nil, lets the block hold attributes of any name,
	// each a value of this type (env { HOME = "/tmp" }, headers { ... }).
	FreeForm *Type
	Doc      string
}

// Attr returns the attribute spec called name, or nil.
func (s *ActionSpec) Attr(name string) *AttrSpec {
	for i := range s.Attrs {
		if s.Attrs[i].Name == name {
			return &s.Attrs[i]
		}
	}
	return nil
}

// Block returns the block spec called name, or nil.
func (s *ActionSpec) Block(name string) *BlockSpec {
	for i := range s.Blocks {
		if s.Blocks[i].Name == name {
			return &s.Blocks[i]
		}
	}
	return nil
}
