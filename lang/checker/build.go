package checker

import (
	"fmt"
	"strings"

	"github.com/smithc/smithc/lang/ast"
	"github.com/smithc/smithc/lang/diag"
)

// buildBody adds a node for each statement of body under parent.
func (g *graph) buildBody(parent *gnode, body *ast.Body, sc *idScope, home bool) {
	if body == nil {
		return
	}
	for _, s := range body.Nodes {
		g.buildStmt(parent, s, sc, home)
	}
}

// buildStmt adds the node of s (and its children) under parent.
func (g *graph) buildStmt(parent *gnode, s ast.Stmt, sc *idScope, home bool) {
	mk := func(k gkind) *gnode { return g.add(parent, &gnode{kind: k, stmt: s, scope: sc, home: home}) }
	switch s := s.(type) {
	case *ast.StepStmt:
		n := mk(gStep)
		g.declare(n, s.ID, sc, home)
		n.optSelf = constTrue(s.Attrs, "continue_on_fail") || hasAttr(s.Attrs, "skip_if")
	case *ast.ApprovalStmt:
		n := mk(gApproval)
		g.declare(n, s.ID, sc, home)
		if constString(s.Attrs, "on_deny") == "skip" {
			markSkip(n)
		}
	case *ast.EventStmt:
		n := mk(gEvent)
		g.declare(n, s.ID, sc, home)
		if v := constString(s.Attrs, "on_timeout"); v == "skip" || v == "continue" {
			n.optSelf = true
		}
	case *ast.TimerStmt:
		n := mk(gTimer)
		g.declare(n, s.ID, sc, home)
	case *ast.SequenceStmt:
		n := mk(gSeq)
		n.body = s.Body
		g.buildBody(n, s.Body, sc, home)
	case *ast.ParallelStmt:
		n := mk(gPar)
		n.body = s.Body
		g.buildBody(n, s.Body, sc, home)
	case *ast.LoopStmt:
		n := mk(gLoop)
		n.body = s.Body
		g.declare(n, s.ID, sc, home)
		g.buildBody(n, s.Body, sc, home)
	case *ast.ForStmt:
		n := mk(gFor)
		n.body = s.Body
		g.buildBody(n, s.Body, sc, home)
	case *ast.WorktreeStmt:
		n := mk(gWorktree)
		n.body = s.Body
		g.declare(n, s.ID, sc, home)
		g.buildBody(n, s.Body, sc, home)
	case *ast.MatchStmt:
		n := mk(gMatch)
		for _, a := range s.Arms {
			if a == nil {
				continue
			}
			arm := g.add(n, &gnode{kind: gArm, body: a.Body, scope: sc, home: home, pred: a.Pred})
			g.buildBody(arm, a.Body, sc, home)
		}
		if s.Else != nil {
			arm := g.add(n, &gnode{kind: gArm, body: s.Else.Body, scope: sc, home: home})
			g.buildBody(arm, s.Else.Body, sc, home)
		}
	case *ast.BranchStmt:
		n := mk(gBranch)
		arm := g.add(n, &gnode{kind: gArm, body: s.Then, scope: sc, home: home, pred: s.Pred})
		g.buildBody(arm, s.Then, sc, home)
		if s.Else != nil {
			arm := g.add(n, &gnode{kind: gArm, body: s.Else.Body, scope: sc, home: home})
			g.buildBody(arm, s.Else.Body, sc, home)
		}
	case *ast.TryStmt:
		n := mk(gTry)
		part := g.add(n, &gnode{kind: gTryPart, body: s.Try, scope: sc, home: home})
		g.buildBody(part, s.Try, sc, home)
		if s.Catch != nil {
			part := g.add(n, &gnode{kind: gCatch, body: s.Catch, scope: sc, home: home})
			g.buildBody(part, s.Catch, sc, home)
		}
		if s.Finally != nil {
			part := g.add(n, &gnode{kind: gFinally, body: s.Finally, scope: sc, home: home})
			g.buildBody(part, s.Finally, sc, home)
		}
	case *ast.UseStmt:
		g.buildUse(parent, s, sc, home)
	}
}

// buildUse mounts a fragment: its body is instantiated under the use node
// with the prefix's ids.
func (g *graph) buildUse(parent *gnode, s *ast.UseStmt, sc *idScope, home bool) {
	n := g.add(parent, &gnode{kind: gUse, stmt: s, scope: sc, home: home})
	g.declare(n, s.Prefix, sc, home)
	frag := g.c.info.Fragments[s.Fragment.Name]
	if frag == nil {
		if home {
			names := make([]string, 0, len(g.c.info.Fragments))
			for name := range g.c.info.Fragments {
				names = append(names, name)
			}
			g.c.report(diag.Diagnostic{
				Code:    "unknown-fragment",
				Summary: "unknown fragment " + quote(s.Fragment.Name),
				Hint:    didYouMean(s.Fragment.Name, names),
				Detail:  "A use statement mounts a fragment declared in this file or an imported one.",
				Subject: s.Fragment.Range,
			})
		}
		return
	}
	n.frag = frag
	if home {
		g.c.info.Uses[s] = frag
	}
	for i, f := range g.fragStack {
		if f == frag {
			// A fragment's own graph reports the cycles it is part of:
			// at the use of its source that starts the cycle (which is
			// the offending use itself when the fragment mounts itself
			// directly), whether or not anything mounts the fragment.
			if at := g.homeUse; g.frag != nil && i == 0 && (home || at != nil) {
				if home {
					at = s
				}
				s := at
				chain := []string{}
				for _, f := range g.fragStack[i:] {
					chain = append(chain, f.Name.Name)
				}
				chain = append(chain, frag.Name.Name)
				g.c.report(diag.Diagnostic{
					Code:    "recursive-fragment",
					Summary: "fragment uses itself: " + strings.Join(chain, " -> "),
					Detail:  "Mounting is static; a fragment may not mount itself, directly or through other fragments.",
					Subject: s.Fragment.Range,
				})
			}
			return
		}
	}
	size := g.c.fragSize(frag)
	if g.overLimit {
		// The graph is known to exceed MaxNodes: no mount is expanded,
		// and the use that crosses the limit is reported.
		if g.skipped += size; len(g.nodes)+g.skipped > MaxNodes {
			g.tooBig(s, home, frag, size)
		}
		return
	}
	if len(g.nodes)+size > MaxNodes || g.c.nodes+size > maxProgramNodes {
		g.tooBig(s, home, frag, size)
		return
	}
	n.mount = newScope(sc.prefix+s.Prefix.Name+".", n)
	g.fragStack = append(g.fragStack, frag)
	if home {
		g.homeUse = s
	}
	g.buildBody(n, frag.Body, n.mount, false)
	if home {
		g.homeUse = nil
	}
	g.fragStack = g.fragStack[:len(g.fragStack)-1]
}

// hasAttr reports whether attrs has one called name.
func hasAttr(attrs []*ast.Attr, name string) bool { return findAttr(attrs, name) != nil }

// findAttr returns the first attribute called name, or nil.
func findAttr(attrs []*ast.Attr, name string) *ast.Attr {
	for _, a := range attrs {
		if a != nil && a.Name.Name == name {
			return a
		}
	}
	return nil
}

// constString returns the literal string value of attribute name, or "".
func constString(attrs []*ast.Attr, name string) string {
	a := findAttr(attrs, name)
	if a == nil || a.Value == nil {
		return ""
	}
	if a.Value.Template != nil {
		s, _ := a.Value.Template.IsLiteral()
		return s
	}
	return ""
}

// constTrue reports whether attribute name is the literal true.
func constTrue(attrs []*ast.Attr, name string) bool {
	a := findAttr(attrs, name)
	return a != nil && a.Value != nil && strings.TrimSpace(a.Value.Src) == "true"
}

// MaxNodes bounds the nodes of one workflow or fragment, mounted
// fragments included: checking (and running) is linear in it, and mounts
// multiply (a fragment mounting another twice, thirty levels deep, would
// be a billion nodes).
const MaxNodes = 250_000

// maxProgramNodes bounds the nodes of all graphs of a check together
// (each fragment is also checked on its own, with its mounts).
const maxProgramNodes = 2 * MaxNodes

// tooBig reports, once per graph, that mounting frag (of size nodes) at
// use s would exceed MaxNodes; the mount is left empty.
func (g *graph) tooBig(s *ast.UseStmt, home bool, frag *ast.FragmentDecl, size int) {
	if g.bigReported {
		return
	}
	g.bigReported = true
	at := s
	if !home {
		at = g.homeUse
	}
	if at == nil {
		return
	}
	adds := fmt.Sprint(size)
	if size > MaxNodes {
		adds = fmt.Sprintf("more than %d", MaxNodes)
	}
	summary := fmt.Sprintf("%s would have more than %d nodes: mounting fragment %q here adds %s", g.ownerName(), MaxNodes, frag.Name.Name, adds)
	if len(g.nodes)+g.skipped <= MaxNodes && len(g.nodes)+size <= MaxNodes {
		summary = fmt.Sprintf("the program would have more than %d nodes: mounting fragment %q here adds %s", maxProgramNodes, frag.Name.Name, adds)
	}
	g.c.report(diag.Diagnostic{
		Code:    "too-many-nodes",
		Summary: summary,
		Detail:  "Each use copies the fragment's nodes, and the fragments it mounts, into the workflow; split the work into workflows joined with call, or loop over the data with for.",
		Subject: at.Fragment.Range,
	})
}

// fragSize returns the number of nodes a mount of fd adds, mounts
// included (a cycle, reported elsewhere, counts as nothing), saturating
// above MaxNodes.
func (c *checker) fragSize(fd *ast.FragmentDecl) int {
	if n, ok := c.fragSizes[fd]; ok {
		return max(n, 0)
	}
	c.fragSizes[fd] = -1 // in progress: a cycle adds nothing
	n := c.bodySize(fd.Body)
	c.fragSizes[fd] = n
	return n
}

// bodySize counts the nodes of a body as buildBody would make them.
func (c *checker) bodySize(b *ast.Body) int {
	if b == nil {
		return 0
	}
	n := 0
	for _, s := range b.Nodes {
		n += c.stmtSize(s)
		if n > MaxNodes {
			return MaxNodes + 1
		}
	}
	return n
}

func (c *checker) stmtSize(s ast.Stmt) int {
	switch s := s.(type) {
	case *ast.SequenceStmt:
		return 1 + c.bodySize(s.Body)
	case *ast.ParallelStmt:
		return 1 + c.bodySize(s.Body)
	case *ast.LoopStmt:
		return 1 + c.bodySize(s.Body)
	case *ast.ForStmt:
		return 1 + c.bodySize(s.Body)
	case *ast.WorktreeStmt:
		return 1 + c.bodySize(s.Body)
	case *ast.MatchStmt:
		n := 1
		for _, a := range s.Arms {
			if a != nil {
				n += 1 + c.bodySize(a.Body)
			}
		}
		if s.Else != nil {
			n += 1 + c.bodySize(s.Else.Body)
		}
		return n
	case *ast.BranchStmt:
		n := 2 + c.bodySize(s.Then)
		if s.Else != nil {
			n += 1 + c.bodySize(s.Else.Body)
		}
		return n
	case *ast.TryStmt:
		n := 2 + c.bodySize(s.Try)
		if s.Catch != nil {
			n += 1 + c.bodySize(s.Catch)
		}
		if s.Finally != nil {
			n += 1 + c.bodySize(s.Finally)
		}
		return n
	case *ast.UseStmt:
		if frag := c.info.Fragments[s.Fragment.Name]; frag != nil {
			return 1 + c.fragSize(frag)
		}
		return 1
	}
	return 1
}
