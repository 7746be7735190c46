package ir

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"
)

// Diagram is a laid-out drawing of a workflow: a box for every node, in
// the nesting of the source (a sequence top to bottom, a parallel block
// and the arms of a match side by side, loops, fan-outs, worktrees and
// try blocks as frames around their bodies), and a line for every
// dependency. The layout is structural, not a general graph layout: the
// IR is a tree with a few cross edges (needs), so the tree decides where
// things stand and the cross edges are drawn as curves. Coordinates are
// in pixels, the origin top left.
type Diagram struct {
	Width, Height float64
	Boxes         []Box
	Lines         []Line
}

// Box is one node of a Diagram. Frame is set for a group drawn around its
// members (its label is the title at the top).
type Box struct {
	NodeID     string
	Kind       Kind
	Label      []string // lines of text
	X, Y, W, H float64
	Frame      bool
}

// Line is a dependency edge from the bottom of one box to the top of
// another, with an optional label (a match arm's predicate).
type Line struct {
	From, To       string // node ids
	X1, Y1, X2, Y2 float64
	Label          string
	Straight       bool // from directly above: drawn as a straight line
}

const (
	layCharW   = 7.0  // average glyph width at the 12 px font
	layLineH   = 15.0 // text line height
	layPad     = 10.0 // padding inside a frame
	layTitleH  = 20.0 // frame title band
	layGapY    = 26.0 // vertical gap between stacked blocks (room for arrows)
	layGapX    = 18.0 // horizontal gap between side-by-side blocks
	layMinBoxW = 110.0
	layMargin  = 12.0
)

type block struct {
	w, h float64
	// place puts the block with its top left corner at x, y.
	place func(x, y float64)
}

// Layout lays a workflow out as a Diagram.
func Layout(wf *Workflow) *Diagram {
	g := newGraph(wf)
	d := &Diagram{}
	at := map[string]int{} // node id → index in d.Boxes
	// bottom is where lines from a node start when that is not the
	// bottom of its box (a match: below its arms).
	bottom := map[string][2]float64{}
	var build func(n *Node) block
	stack := func(nodes []*Node, vertical bool) block {
		var bs []block
		for _, c := range nodes {
			bs = append(bs, build(c))
		}
		var w, h float64
		for i, b := range bs {
			if vertical {
				w = max(w, b.w)
				h += b.h
				if i > 0 {
					h += layGapY
				}
			} else {
				h = max(h, b.h)
				w += b.w
				if i > 0 {
					w += layGapX
				}
			}
		}
		return block{w: w, h: h, place: func(x, y float64) {
			for _, b := range bs {
				if vertical {
					b.place(x+(w-b.w)/2, y)
					y += b.h + layGapY
				} else {
					b.place(x, y)
					x += b.w + layGapX
				}
			}
		}}
	}
	leaf := func(n *Node) block {
		label := strings.Split(g.label(n), "\n")
		w := layMinBoxW
		for _, l := range label {
			w = max(w, float64(utf8.RuneCountInString(l))*layCharW+2*layPad)
		}
		h := float64(len(label))*layLineH + 14
		return block{w: w, h: h, place: func(x, y float64) {
			at[n.ID] = len(d.Boxes)
			d.Boxes = append(d.Boxes, Box{NodeID: n.ID, Kind: n.Kind, Label: label, X: x, Y: y, W: w, H: h})
		}}
	}
	frame := func(n *Node, title string, inner block) block {
		w := max(inner.w+2*layPad, float64(utf8.RuneCountInString(title))*layCharW+2*layPad)
		h := inner.h + 2*layPad + layTitleH
		return block{w: w, h: h, place: func(x, y float64) {
			at[n.ID] = len(d.Boxes)
			d.Boxes = append(d.Boxes, Box{NodeID: n.ID, Kind: n.Kind, Label: []string{title}, X: x, Y: y, W: w, H: h, Frame: true})
			inner.place(x+(w-inner.w)/2, y+layTitleH+layPad)
		}}
	}
	build = func(n *Node) block {
		switch n.Kind {
		case KindParallel:
			return frame(n, g.label(n), stack(n.Children, false))
		case KindMatch, KindBranch:
			// The head, then the arms side by side, each framed and
			// titled by its predicate; what depends on the match hangs
			// from the bottom of the whole block.
			head := leaf(n)
			var arms []block
			for _, a := range n.Match.Arms {
				arms = append(arms, frame(a.Body, "when "+oneLine(a.Pred.Src), stack(a.Body.Children, true)))
			}
			if e := n.Match.Else; e != nil {
				arms = append(arms, frame(e, "else", stack(e.Children, true)))
			}
			var rw, rh float64
			for i, a := range arms {
				rw += a.w
				if i > 0 {
					rw += layGapX
				}
				rh = max(rh, a.h)
			}
			w := max(head.w, rw)
			h := head.h + layGapY + rh
			return block{w: w, h: h, place: func(x, y float64) {
				head.place(x+(w-head.w)/2, y)
				ax := x + (w-rw)/2
				for _, a := range arms {
					a.place(ax, y+head.h+layGapY)
					ax += a.w + layGapX
				}
				bottom[n.ID] = [2]float64{x + w/2, y + h}
			}}
		case KindTry:
			parts := []*Node{n.Try.Try}
			if n.Try.Catch != nil {
				parts = append(parts, n.Try.Catch)
			}
			if n.Try.Finally != nil {
				parts = append(parts, n.Try.Finally)
			}
			return frame(n, g.label(n), stack(parts, true))
		case KindSequence, KindLoop, KindFor, KindWorktree:
			return frame(n, g.label(n), stack(n.Children, true))
		}
		return leaf(n)
	}
	root := stack(wf.Root.Children, true)
	root.place(layMargin, layMargin)
	d.Width, d.Height = root.w+2*layMargin, root.h+2*layMargin

	for _, e := range g.edges() {
		from, to := g.order[idIndex(e.from)], g.order[idIndex(e.to)]
		fi, ok1 := at[from.ID]
		ti, ok2 := at[to.ID]
		if !ok1 || !ok2 {
			continue
		}
		a, b := d.Boxes[fi], d.Boxes[ti]
		ln := Line{From: from.ID, To: to.ID, X1: a.X + a.W/2, Y1: a.Y + a.H, X2: b.X + b.W/2, Y2: b.Y}
		if p, ok := bottom[from.ID]; ok && e.label == "" {
			ln.X1, ln.Y1 = p[0], p[1]
		}
		ln.Straight = ln.X1 == ln.X2 && ln.Y2 > ln.Y1
		d.Lines = append(d.Lines, ln)
	}
	return d
}

// idIndex reads the index back from a graph id "n12".
func idIndex(id string) int {
	var i int
	fmt.Sscanf(id, "n%d", &i)
	return i
}

// SVGStyle is the default style of SVG: neutral colours, and a class per
// node state (state-running, state-finished, …) for a page that colours
// nodes as a run proceeds.
const SVGStyle = `
.smw-graph { font: 12px ui-sans-serif, system-ui, sans-serif; }
.smw-graph .box rect, .smw-graph .box polygon { fill: #fff; stroke: #555; stroke-width: 1.2; }
.smw-graph .frame > rect { fill: #f6f7f9; stroke: #aab; stroke-dasharray: 4 3; }
.smw-graph .frame > text { fill: #556; font-weight: 600; }
.smw-graph text { fill: #222; }
.smw-graph .edge { fill: none; stroke: #889; stroke-width: 1.2; }
.smw-graph .state-running rect, .smw-graph .state-running polygon { fill: #dbeafe; stroke: #2563eb; }
.smw-graph .state-waiting rect, .smw-graph .state-waiting polygon { fill: #fef3c7; stroke: #d97706; }
.smw-graph .state-finished rect, .smw-graph .state-finished polygon { fill: #dcfce7; stroke: #16a34a; }
.smw-graph .state-failed rect, .smw-graph .state-failed polygon { fill: #fee2e2; stroke: #dc2626; }
.smw-graph .state-skipped rect, .smw-graph .state-skipped polygon { fill: #f3f4f6; stroke: #9ca3af; }
.smw-graph .state-cancelled rect, .smw-graph .state-cancelled polygon { fill: #ede9fe; stroke: #7c3aed; }
.smw-graph .selected rect, .smw-graph .selected polygon { stroke-width: 3; }
`

// SVG writes a Diagram of the workflow as a standalone SVG document. Each
// node is a <g> with class "box" or "frame", "kind-KIND", and its durable
// id in data-node, so a page can colour and select nodes by id.
func SVG(w io.Writer, wf *Workflow) error {
	d := Layout(wf)
	var b bytes.Buffer
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" class="smw-graph" role="img" aria-label="%s" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f">`+"\n",
		xmlText("workflow "+wf.Name), d.Width, d.Height, d.Width, d.Height)
	fmt.Fprintf(&b, "<style>%s</style>\n", SVGStyle)
	b.WriteString(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#889"/></marker></defs>` + "\n")
	for _, bx := range d.Boxes { // frames come before their members
		class := "box"
		if bx.Frame {
			class = "frame"
		}
		fmt.Fprintf(&b, `<g class="%s kind-%s" data-node="%s" tabindex="0"><title>%s</title>`, class, bx.Kind, xmlText(bx.NodeID), xmlText(bx.NodeID))
		switch {
		case bx.Frame:
			fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="8"/>`, bx.X, bx.Y, bx.W, bx.H)
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f">%s</text>`, bx.X+layPad, bx.Y+15, xmlText(bx.Label[0]))
		default:
			switch bx.Kind {
			case KindApproval: // a hexagon
				c := 10.0
				fmt.Fprintf(&b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`,
					bx.X+c, bx.Y, bx.X+bx.W-c, bx.Y, bx.X+bx.W, bx.Y+bx.H/2, bx.X+bx.W-c, bx.Y+bx.H, bx.X+c, bx.Y+bx.H, bx.X, bx.Y+bx.H/2)
			case KindMatch, KindBranch: // a lozenge
				c := 14.0
				fmt.Fprintf(&b, `<polygon points="%.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f %.1f,%.1f"/>`,
					bx.X+c, bx.Y, bx.X+bx.W-c, bx.Y, bx.X+bx.W, bx.Y+bx.H/2, bx.X+bx.W-c, bx.Y+bx.H, bx.X+c, bx.Y+bx.H, bx.X, bx.Y+bx.H/2)
			case KindTimer, KindEvent:
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="%.1f"/>`, bx.X, bx.Y, bx.W, bx.H, bx.H/2)
			default:
				fmt.Fprintf(&b, `<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" rx="4"/>`, bx.X, bx.Y, bx.W, bx.H)
			}
			top := bx.Y + (bx.H-float64(len(bx.Label))*layLineH)/2 + 11
			for i, l := range bx.Label {
				fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" text-anchor="middle">%s</text>`, bx.X+bx.W/2, top+float64(i)*layLineH, xmlText(l))
			}
		}
		b.WriteString("</g>\n")
	}
	for _, ln := range d.Lines {
		if ln.Straight {
			fmt.Fprintf(&b, `<path class="edge" data-from="%s" data-to="%s" d="M%.1f,%.1f L%.1f,%.1f" marker-end="url(#arrow)"/>`,
				xmlText(ln.From), xmlText(ln.To), ln.X1, ln.Y1, ln.X2, ln.Y2)
		} else {
			dy := max(20, (ln.Y2-ln.Y1)/2)
			fmt.Fprintf(&b, `<path class="edge" data-from="%s" data-to="%s" d="M%.1f,%.1f C%.1f,%.1f %.1f,%.1f %.1f,%.1f" marker-end="url(#arrow)"/>`,
				xmlText(ln.From), xmlText(ln.To), ln.X1, ln.Y1, ln.X1, ln.Y1+dy, ln.X2, ln.Y2-dy, ln.X2, ln.Y2)
		}
		b.WriteString("\n")
	}
	b.WriteString("</svg>\n")
	_, err := w.Write(b.Bytes())
	return err
}

func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
