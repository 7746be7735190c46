package checker

import (
	"fmt"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// gkind is the kind of a graph node.
type gkind uint8

const (
	gRoot     gkind = iota // a workflow or fragment body
	gStep                  // step
	gApproval              // approval
	gEvent                 // event
	gTimer                 // timer
	gSeq                   // sequence
	gPar                   // parallel
	gMatch                 // match: kids are arms
	gBranch                // branch: kids are arms
	gArm                   // one arm of a match or branch (when, then, else)
	gLoop                  // loop
	gFor                   // for
	gWorktree              // worktree
	gUse                   // use: kids are the mounted fragment body
	gTry                   // try: kids are its parts
	gTryPart               // the try body
	gCatch                 // the catch body
	gFinally               // the finally body
)

// ordered reports whether the kids of a node of kind k run one after the
// other.
func (k gkind) ordered() bool {
	switch k {
	case gPar, gMatch, gBranch, gTry:
		return false
	}
	return true
}

// readable reports whether a node of kind k has an output.
func (k gkind) readable() bool { return k == gStep || k == gApproval || k == gEvent }

// gnode is one node of a workflow or fragment graph. Mounted fragments
// are instantiated under their use node, so a fragment statement may have
// several gnodes (one per mount) besides its home one.
type gnode struct {
	gr      *graph
	kind    gkind
	stmt    ast.Stmt // nil for roots, arms and try parts
	id      string   // local id; "" when the node has none
	idRange diag.Range
	full    string // durable id, with mount prefixes
	parent  *gnode
	kids    []*gnode
	idx     int // position among parent.kids
	n       int // preorder number in the graph
	depth   int
	body    *ast.Body // the node's body (containers)
	scope   *idScope  // the id scope the node's id lives in
	home    bool      // part of the graph's own source (not a mount instance)
	mount   *idScope  // gUse: the scope of the mounted ids
	frag    *ast.FragmentDecl
	needs   []*gnode
	needsAt []diag.Range // the range of each needs entry

	skipRest  bool      // approval with on_deny = "skip": later nodes of the block may be skipped
	firstSkip int       // index of the first kid with skipRest, or len(kids)
	optSelf   bool      // the node itself may not produce a value (continue_on_fail, skip_if, ...)
	pred      *ast.Expr // the predicate of an arm
	dupID     bool      // the id repeats an earlier one (reported)

	whatS string // what(), once made; reset when full changes
}

// idScope maps the ids of one workflow, fragment or mount to nodes.
type idScope struct {
	prefix string // "" or "api." ...
	ids    map[string]*gnode
	order  []string
	use    *gnode // the use node of a mount scope; nil otherwise
}

func newScope(prefix string, use *gnode) *idScope {
	return &idScope{prefix: prefix, ids: map[string]*gnode{}, use: use}
}

// graph is a workflow's or a fragment's node tree with its happens-before
// relation.
type graph struct {
	c     *checker
	wf    *ast.WorkflowDecl // nil for a fragment
	frag  *ast.FragmentDecl // nil for a workflow
	root  *gnode
	nodes []*gnode
	scope *idScope
	full  map[string]*gnode // durable ids of the whole graph

	preds     [][]int32 // event predecessors; start(n) = 2n, end(n) = 2n+1
	edges     []needEdge
	edgesDone bool
	fired     map[*gnode][]uint64 // see firedFrom

	fragStack   []*ast.FragmentDecl
	homeUse     *ast.UseStmt // the use of the graph's own source being mounted
	bigReported bool         // MaxNodes was reached (see tooBig)
	huge        bool         // the graph's own source exceeds MaxNodes: its nodes are not checked
	overLimit   bool         // with its mounts the graph exceeds MaxNodes: mounts are not expanded
	skipped     int          // nodes of the mounts not expanded
	forVars     map[string]*ast.ForStmt
}

// what names a node in messages: `step "a"`, `parallel`, ...
func (n *gnode) what() string {
	if n.whatS == "" {
		n.whatS = kindName(n.kind)
		if n.full != "" {
			n.whatS += " " + quote(n.full)
		}
	}
	return n.whatS
}

// kindIDNames is kindName(k) + " id" for every kind k.
var kindIDNames = func() (names [gFinally + 1]string) {
	for k := range names {
		names[k] = kindName(gkind(k)) + " id"
	}
	return names
}()

func kindName(k gkind) string {
	switch k {
	case gRoot:
		return "workflow"
	case gStep:
		return "step"
	case gApproval:
		return "approval"
	case gEvent:
		return "event"
	case gTimer:
		return "timer"
	case gSeq:
		return "sequence"
	case gPar:
		return "parallel"
	case gMatch:
		return "match"
	case gBranch:
		return "branch"
	case gArm:
		return "arm"
	case gLoop:
		return "loop"
	case gFor:
		return "for"
	case gWorktree:
		return "worktree"
	case gUse:
		return "use"
	case gTry:
		return "try"
	case gTryPart:
		return "try body"
	case gCatch:
		return "catch"
	}
	return "finally"
}

// newGraph builds the graph of a workflow or fragment body.
func (c *checker) newGraph(wf *ast.WorkflowDecl, frag *ast.FragmentDecl, body *ast.Body) *graph {
	size := 0
	if body != nil {
		size = c.bodySize(body) // at most MaxNodes+1
	}
	// The maps and the node list with room for every node of the body
	// (ids of mounted fragments included, as if all in one scope).
	g := &graph{c: c, wf: wf, frag: frag, full: make(map[string]*gnode, size), nodes: make([]*gnode, 0, 1+size)}
	g.scope = &idScope{ids: make(map[string]*gnode, size), order: make([]string, 0, size)}
	g.root = g.add(nil, &gnode{kind: gRoot, body: body, home: true, scope: g.scope})
	if frag != nil {
		g.fragStack = []*ast.FragmentDecl{frag}
	}
	if body != nil {
		g.overLimit = 1+size > MaxNodes
		g.buildBody(g.root, body, g.scope, true)
	}
	if len(g.nodes) > MaxNodes && !g.bigReported {
		g.bigReported, g.huge = true, true
		at := diag.Range{}
		if wf != nil {
			at = wf.Name.Range
		} else if frag != nil {
			at = frag.Name.Range
		}
		c.report(diag.Diagnostic{Code: "too-many-nodes",
			Summary: fmt.Sprintf("%s has %d nodes, more than the limit of %d", g.ownerName(), len(g.nodes), MaxNodes),
			Detail:  "Split the work into workflows joined with call, or loop over the data with for.",
			Subject: at})
	}
	g.resolveNeeds()
	g.buildEdges()
	return g
}

// add appends n as the next kid of parent.
func (g *graph) add(parent *gnode, n *gnode) *gnode {
	n.parent = parent
	n.gr = g
	n.n = len(g.nodes)
	g.c.nodes++
	g.nodes = append(g.nodes, n)
	if parent != nil {
		n.idx = len(parent.kids)
		n.depth = parent.depth + 1
		if parent.firstSkip == n.idx {
			parent.firstSkip++ // n is not known to skip yet; markSkip lowers it
		}
		parent.kids = append(parent.kids, n)
	}
	return n
}

// markSkip records that n (an approval with on_deny = "skip") may skip the
// nodes after it in its block.
func markSkip(n *gnode) {
	n.skipRest = true
	if p := n.parent; p != nil && n.idx < p.firstSkip {
		p.firstSkip = n.idx
	}
}

// declare registers n's id in scope and in the graph's durable ids.
func (g *graph) declare(n *gnode, id ast.Ident, sc *idScope, home bool) {
	n.id = id.Name
	n.idRange = id.Range
	n.full = sc.prefix + id.Name
	n.whatS = ""
	if home {
		what := kindIDNames[n.kind]
		if n.kind == gUse {
			what = "mount prefix"
		}
		g.c.checkReserved(id, what)
	}
	if prev, ok := sc.ids[id.Name]; ok {
		n.dupID = true
		if home {
			g.c.report(diag.Diagnostic{
				Code:    "duplicate-id",
				Summary: "duplicate id " + quote(id.Name) + ": it is used twice in " + g.ownerName(),
				Detail:  "Node ids are durable keys of a run and must be unique in their workflow; rename one of them.",
				Subject: id.Range,
				Related: []diag.Related{{Range: prev.idRange, Message: "first used here"}},
			})
		}
		return
	}
	sc.ids[id.Name] = n
	sc.order = append(sc.order, id.Name)
	if prev, ok := g.full[n.full]; ok && !home {
		use := sc.use
		if use.dupID {
			return
		}
		g.c.report(diag.Diagnostic{
			Code:    "duplicate-id",
			Summary: "duplicate id " + quote(n.full) + ": it is used twice in " + g.ownerName(),
			Detail:  "Mounted ids are the prefix followed by the fragment's ids; choose another prefix.",
			Subject: use.idRange,
			Related: []diag.Related{{Range: prev.idRange, Message: "first used here"}},
		})
		return
	}
	g.full[n.full] = n
}

func (g *graph) ownerName() string {
	if g.wf != nil {
		return "workflow " + quote(g.wf.Name.Name)
	}
	return "fragment " + quote(g.frag.Name.Name)
}

// g returns the graph n belongs to.
func (n *gnode) g() *graph { return n.gr }
