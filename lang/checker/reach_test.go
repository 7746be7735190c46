package checker

import (
	"fmt"
	"math/rand"
	"strings"
	"testing"

	"github.com/smithc/smithc/lang/parser"
)

// randomBody writes a random body of depth at most d into b: sequences,
// parallels, matches, branches, tries, loops and fors of steps, with
// random needs between the steps declared so far (some of them cycles).
func randomBody(b *strings.Builder, rng *rand.Rand, d int, ids *[]string) {
	for k := rng.Intn(4) + 1; k > 0; k-- {
		kind := rng.Intn(8)
		if d == 0 {
			kind = 0
		}
		switch kind {
		case 0, 1:
			id := fmt.Sprintf("s%d", len(*ids))
			needs := ""
			if rng.Intn(3) == 0 { // an earlier node, or a later one (maybe a cycle)
				needs = fmt.Sprintf(", needs = [s%d]", rng.Intn(len(*ids)+6))
			}
			*ids = append(*ids, id)
			fmt.Fprintf(b, "step %s { value = 1 %s }\n", id, needs)
		case 2:
			b.WriteString("parallel {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("}\n")
		case 3:
			b.WriteString("sequence {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("}\n")
		case 4:
			b.WriteString("branch input.x > 1 {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("} else {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("}\n")
		case 5:
			b.WriteString("try {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("} catch {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("} finally {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("}\n")
		case 6:
			fmt.Fprintf(b, "loop l%d {\nmax_iterations = 2\n", len(*ids))
			*ids = append(*ids, fmt.Sprintf("l%d", len(*ids)))
			randomBody(b, rng, d-1, ids)
			b.WriteString("}\n")
		case 7:
			b.WriteString("for v in [1, 2] {\n")
			randomBody(b, rng, d-1, ids)
			b.WriteString("}\n")
		}
	}
}

// TestBeforeMatchesEventGraph compares the happens-before answers of
// graph.before (tree order plus needs edges, never materialised) with a
// search of the event graph itself, for every node and event of random
// programs, cycles included.
func TestBeforeMatchesEventGraph(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewSource(1))
	cycles := 0
	for i := 0; i < 200; i++ {
		var b strings.Builder
		b.WriteString("workflow w {\ninput { x: int = 1 }\n")
		var ids []string
		randomBody(&b, rng, 3, &ids)
		b.WriteString("}\n")
		src := b.String()
		f, ds := parser.Parse("in.smw", []byte(src))
		if ds.HasErrors() {
			t.Fatalf("generated program does not parse: %s\n%s", ds.Error(), src)
		}
		c := newChecker(&Config{Actions: testSpecs()})
		c.run(c.loadImports(f))
		for _, st := range c.wfState {
			g := st.g
			if !g.isAcyclic() {
				cycles++
			}
			for ev := range g.preds {
				reach := make([]bool, len(g.preds)) // events strictly before ev
				stack := []int32{int32(ev)}
				for len(stack) > 0 {
					e := stack[len(stack)-1]
					stack = stack[:len(stack)-1]
					for _, p := range g.preds[e] {
						if !reach[p] {
							reach[p] = true
							stack = append(stack, p)
						}
					}
				}
				for _, n := range g.nodes {
					if got, want := g.before(n, int32(ev)), reach[end(n)]; got != want {
						t.Fatalf("before(%s #%d, event %d) = %v, the event graph says %v\n%s", n.what(), n.n, ev, got, want, src)
					}
				}
			}
		}
	}
	if cycles == 0 {
		t.Error("no generated program has a needs cycle")
	}
}
