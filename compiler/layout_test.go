package compiler_test

import (
	"bytes"
	"encoding/xml"
	"io"
	"testing"

	"github.com/smithc/smithc/compiler/ir"
)

// TestLayoutSVG draws every example (and trickyLabels) as SVG and checks
// what a reader of the picture relies on: the document is well-formed
// XML, every node with an id is drawn exactly once, boxes of one parent
// never overlap, and a frame holds its members.
func TestLayoutSVG(t *testing.T) {
	for _, g := range graphWorkflows(t) {
		var buf bytes.Buffer
		if err := ir.SVG(&buf, g.wf); err != nil {
			t.Fatal(err)
		}
		dec := xml.NewDecoder(bytes.NewReader(buf.Bytes()))
		drawn := map[string]int{}
		for {
			tok, err := dec.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("%s: SVG is not well-formed XML: %v\n%s", g.name, err, buf.String())
			}
			if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "g" {
				for _, a := range se.Attr {
					if a.Name.Local == "data-node" {
						drawn[a.Value]++
					}
				}
			}
		}
		d := ir.Layout(g.wf)
		boxes := map[string]ir.Box{}
		for _, b := range d.Boxes {
			boxes[b.NodeID] = b
		}
		for _, top := range g.wf.Root.Children {
			ir.Walk(top, func(n *ir.Node) bool {
				if n.ID != "" && drawn[n.ID] != 1 {
					t.Errorf("%s: node %s drawn %d times", g.name, n.ID, drawn[n.ID])
				}
				return true
			})
		}
		inside := func(in, out ir.Box) bool {
			return in.X >= out.X && in.Y >= out.Y && in.X+in.W <= out.X+out.W && in.Y+in.H <= out.Y+out.H
		}
		overlap := func(a, b ir.Box) bool {
			return a.X < b.X+b.W && b.X < a.X+a.W && a.Y < b.Y+b.H && b.Y < a.Y+a.H
		}
		var check func(parent *ir.Node, kids []*ir.Node)
		check = func(parent *ir.Node, kids []*ir.Node) {
			for i, a := range kids {
				ba, ok := boxes[a.ID]
				if !ok {
					continue
				}
				if pb, ok := boxes[parent.ID]; ok && pb.Frame && !inside(ba, pb) {
					t.Errorf("%s: %s is drawn outside its frame %s", g.name, a.ID, parent.ID)
				}
				if ba.X < 0 || ba.Y < 0 || ba.X+ba.W > d.Width || ba.Y+ba.H > d.Height {
					t.Errorf("%s: %s is drawn outside the picture", g.name, a.ID)
				}
				for _, b := range kids[i+1:] {
					if bb, ok := boxes[b.ID]; ok && overlap(ba, bb) {
						t.Errorf("%s: %s and %s overlap", g.name, a.ID, b.ID)
					}
				}
				check(a, a.Body())
			}
		}
		check(g.wf.Root, g.wf.Root.Children)
	}
}
