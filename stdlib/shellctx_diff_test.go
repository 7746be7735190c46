package stdlib

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"mvdan.cc/sh/v3/syntax"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// The differential test: run templates generated from a small shell
// grammar, with hostile values interpolated, under real shells, and look
// for a canary file that only injected code creates. Templates the checker
// refuses are counted, not run.

// holeKind is the type of an interpolated value in a generated template.
type holeKind byte

const (
	holeStr  holeKind = 's' // string
	holeList holeKind = 'l' // [string]
	holeInt  holeKind = 'n' // int
)

// genTemplate is a generated run template: literal parts around holes.
type genTemplate struct {
	lits  []string // len(holes)+1
	holes []holeKind
}

func (g *genTemplate) lit(s string) { g.lits[len(g.lits)-1] += s }

func (g *genTemplate) hole(k holeKind) {
	g.holes = append(g.holes, k)
	g.lits = append(g.lits, "")
}

// String shows the template with its holes as ${s0}, ${l1}, ${n2}.
func (g *genTemplate) String() string {
	var b strings.Builder
	for i, l := range g.lits {
		b.WriteString(l)
		if i < len(g.holes) {
			fmt.Fprintf(&b, "${%c%d}", g.holes[i], i)
		}
	}
	return b.String()
}

// inert is template text that runs the canary only if a value changed how
// the script parses (it sits in single quotes, a quoted here-document or a
// comment).
const inert = `$(touch "$C")`

// gen builds random templates from a grammar of shell shapes.
type gen struct {
	r *rand.Rand
	t *genTemplate
}

func (g *gen) pick(n int) int { return g.r.Intn(n) }

func (g *gen) l(s string) { g.t.lit(s) }

// sub writes a statement that another one follows on the same line: one
// ending in a here-document gets a ":" so that the next ";" or "|" is not
// at the start of a line.
func (g *gen) sub(d int) {
	g.stmt(d)
	if strings.HasSuffix(g.t.lits[len(g.t.lits)-1], "\n") {
		g.l(":")
	}
}

func (g *gen) anyHole() {
	switch g.pick(10) {
	case 0, 1, 2, 3, 4, 5:
		g.t.hole(holeStr)
	case 6, 7:
		g.t.hole(holeList)
	default:
		g.t.hole(holeInt)
	}
}

// intHole is a hole in an arithmetic position: mostly an int.
func (g *gen) intHole() {
	if g.pick(5) == 0 {
		g.anyHole()
		return
	}
	g.t.hole(holeInt)
}

// word writes one shell word holding an interpolation.
func (g *gen) word(d int) {
	switch g.pick(26) {
	case 0, 1, 2:
		g.anyHole()
	case 3:
		g.l("pre")
		g.anyHole()
		g.l("post")
	case 4:
		g.l("'a ")
		g.anyHole()
		g.l(" b'")
	case 5:
		g.l(`"a `)
		g.anyHole()
		g.l(` b"`)
	case 6:
		g.l(`"$(printf %s `)
		g.anyHole()
		g.l(`)"`)
	case 7:
		g.l(`$(printf %s `)
		g.anyHole()
		g.l(`)`)
	case 8:
		g.l(`"$(echo '`)
		g.anyHole()
		g.l(`')"`)
	case 9:
		g.l(`$(( `)
		g.intHole()
		g.l(` + 1 ))`)
	case 10:
		g.l(`"$((`)
		g.intHole()
		g.l(`))"`)
	case 11:
		g.l(`$(( $(echo '`)
		g.anyHole()
		g.l(`') ))`)
	case 12:
		g.l(`$((`)
		g.intHole()
		g.l(`))`)
	case 13:
		g.l("`echo ")
		g.anyHole()
		g.l("`")
	case 14:
		g.l(`$'a `)
		g.anyHole()
		g.l(`'`)
	case 15:
		g.l(`"${V:-`)
		g.anyHole()
		g.l(`}"`)
	case 16:
		g.l(`${V:-`)
		g.anyHole()
		g.l(`}`)
	case 17:
		g.l(`\`)
		g.anyHole()
	case 18:
		g.l(`$`)
		g.anyHole()
	case 19:
		g.l(`{a,`)
		g.anyHole()
		g.l(`}`)
	case 20:
		g.l(`~`)
		g.anyHole()
	case 21:
		g.l(`"$(case a in a) echo `)
		g.anyHole()
		g.l(`;; esac)"`)
	case 22:
		g.l(`$(( a[`)
		g.intHole()
		g.l(`] ))`)
	case 23:
		g.l(`"${A[`)
		g.intHole()
		g.l(`]}"`)
	case 24:
		g.l(`'` + inert + `'`)
	default:
		if d > 0 {
			g.l(`"$(`)
			g.stmt(d - 1)
			g.l(`)"`)
		} else {
			g.l("lit")
		}
	}
}

// words writes 1-3 words.
func (g *gen) words(d int) {
	n := 1 + g.pick(3)
	for i := 0; i < n; i++ {
		if i > 0 {
			g.l(" ")
		}
		g.word(d)
	}
}

// stmt writes one shell statement.
func (g *gen) stmt(d int) {
	if d > 0 && g.pick(3) == 0 {
		switch g.pick(11) {
		case 0:
			g.l("( ")
			g.sub(d - 1)
			g.l(" )")
		case 1:
			g.l("{ ")
			g.sub(d - 1)
			g.l("; }")
		case 2:
			g.sub(d - 1)
			g.l(" | ")
			g.sub(d - 1)
		case 3:
			g.sub(d - 1)
			g.l(" && ")
			g.sub(d - 1)
		case 4:
			g.sub(d - 1)
			g.l(" || ")
			g.sub(d - 1)
		case 5:
			g.sub(d - 1)
			g.l("; ")
			g.sub(d - 1)
		case 6:
			g.sub(d - 1)
			g.l("\n")
			g.sub(d - 1)
		case 7:
			g.l("if ")
			g.sub(d - 1)
			g.l("; then ")
			g.sub(d - 1)
			g.l("; fi")
		case 8:
			g.l("for i in ")
			g.words(d - 1)
			g.l(`; do printf '%s\n' "$i"; done`)
		case 9:
			g.l("f() { ")
			g.sub(d - 1)
			g.l("; }; f")
		default:
			g.l("x=$(")
			g.sub(d - 1)
			g.l(`); printf '%s\n' "$x"`)
		}
		return
	}
	switch g.pick(40) {
	case 0, 1, 2, 3:
		g.l(`printf '%s\n' `)
		g.words(d)
	case 4, 5:
		g.l("echo ")
		g.words(d)
	case 6:
		g.l("cat <<EOF\na ")
		g.anyHole()
		g.l("\nEOF\n")
	case 7:
		g.l("cat <<'E F'\nx " + inert + "\nE F\necho ")
		g.word(d)
		g.l("\n")
	case 8:
		g.l("cat <<'E F'\n")
		g.anyHole()
		g.l("\n" + inert + "\nE F\n")
	case 9:
		g.l("cat <")
		g.anyHole()
		g.l("<EOF\nbody\nEOF\n")
	case 10:
		g.l("cat <<-EOF\n\t")
		g.anyHole()
		g.l("\n\tEOF\n")
	case 11:
		g.l("cat <<EOF; echo ")
		g.word(d)
		g.l("\nbody\nEOF\n")
	case 12:
		g.l("cat <<")
		g.anyHole()
		g.l("\nx\n")
	case 13:
		g.l("case ")
		g.word(d)
		g.l(" in a) echo a;; *) echo ")
		g.word(d)
		g.l(";; esac")
	case 14:
		g.l("case x in ")
		g.anyHole()
		g.l(") echo m;; esac")
	case 15:
		g.l("echo case ")
		g.word(d)
		g.l(" esac")
	case 16:
		g.l("(case a in a) echo ")
		g.word(d)
		g.l(";; esac)")
	case 17:
		g.l("echo esac; case a in (a) echo ")
		g.word(d)
		g.l(";; esac")
	case 18:
		g.l("[[ ")
		g.intHole()
		g.l(" -gt 5 ]]")
	case 19:
		g.l("[[ ")
		g.word(d)
		g.l(" == a ]]")
	case 20:
		g.l("[ ")
		g.word(d)
		g.l(" = a ]")
	case 21:
		g.l("(( ")
		g.intHole()
		g.l(" ))")
	case 22:
		g.l("echo a # ")
		g.anyHole()
		g.l("\necho b")
	case 23:
		g.l("echo ")
		g.anyHole()
		g.l("#c\necho b")
	case 24:
		g.l("echo a # " + inert + " ")
		g.anyHole()
		g.l("\n")
	case 25:
		g.l("v=")
		g.anyHole()
		g.l(`; printf '%s\n' "$v"`)
	case 26:
		g.l("export v=")
		g.anyHole()
	case 27:
		g.l("declare -a arr=")
		g.anyHole()
	case 28:
		g.l("a[")
		g.intHole()
		g.l("]=1")
	case 29:
		g.l("test -v ")
		g.anyHole()
	case 30:
		g.l("read ")
		g.anyHole()
		g.l(" </dev/null")
	case 31:
		g.l("let v=")
		g.intHole()
		g.l("+1")
	case 32:
		g.l("for (( i=0; i<")
		g.intHole()
		g.l(" && i<3; i++ )); do :; done")
	case 33:
		g.l("echo a >")
		g.anyHole()
	case 34:
		g.l("arr=(")
		g.words(d)
		g.l(`); printf '%s\n' "${arr[@]}"`)
	case 35:
		g.anyHole()
		g.l(" arg")
	case 36:
		g.l("[[ -n ")
		g.word(d)
		g.l(" && ")
		g.intHole()
		g.l(" -eq 1 ]]")
	case 37:
		g.l("printf '%s\\n' '" + inert + "' ")
		g.word(d)
	case 38:
		g.l("echo ")
		g.anyHole()
		g.l("=x")
	default:
		g.l(`printf '%s\n' "`)
		g.anyHole()
		g.l(`" | cat`)
	}
}

// generate returns n templates, each with at least one hole.
func generate(seed int64, n int) []*genTemplate {
	g := &gen{r: rand.New(rand.NewSource(seed))}
	var out []*genTemplate
	for len(out) < n {
		g.t = &genTemplate{lits: []string{""}}
		g.stmt(1 + g.pick(2))
		if len(g.t.holes) > 0 && len(g.t.holes) <= 6 {
			out = append(out, g.t)
		}
	}
	return out
}

// hostileStrings run the canary when pasted into a script unquoted, or
// break out of a quoting context. $C is the canary's path.
var hostileStrings = []string{
	inert,
	"`touch \"$C\"`",
	`; touch "$C"`,
	`'; touch "$C"; '`,
	`"; touch "$C"; "`,
	"\ntouch \"$C\"\n",
	`a[$(touch "$C")]`,
	`x[$(touch "$C")]+1`,
	`)) ; touch "$C" ; : $((`,
	`') ; touch "$C" ; (echo '`,
	"EOF\ntouch \"$C\"\nEOF",
	"E F\ntouch \"$C\"\nE F",
	`esac; touch "$C"; case x in x)`,
	`$'\''; touch "$C";'`,
	`\`, `'`, `"`, `#`, `-n`, `--output=out`, `*`, `?`, `~`,
	"héllo wörld ✓ 日本",
	"",
	"a b\tc",
	`$C`,
	`} ; touch "$C" ; {`,
	`]] ; touch "$C" ; [[ a`,
	`(a) touch "$C";;`,
	"esac", "elif", "then", "fi", "}", "do", "5",
	strings.Repeat(`a'b"c `, 4000) + `$(touch "$C")`,
}

var hostileLists = [][]any{
	{},
	{inert},
	{"", `; touch "$C"`},
	{"#", `$(touch "$C")`},
	{"-n", "`touch \"$C\"`", "a b"},
	{"<EOF"},
}

var hostileInts = []any{int64(0), int64(-1), int64(42), int64(9223372036854775807), int64(-9223372036854775808)}

// values picks the values of one run of t: value set j.
func values(t *genTemplate, r *rand.Rand) []any {
	vals := make([]any, len(t.holes))
	for i, k := range t.holes {
		switch k {
		case holeStr:
			vals[i] = hostileStrings[r.Intn(len(hostileStrings))]
		case holeList:
			vals[i] = hostileLists[r.Intn(len(hostileLists))]
		default:
			vals[i] = hostileInts[r.Intn(len(hostileInts))]
		}
	}
	return vals
}

// diffShells are the shells the differential test runs: dash, bash, and
// bash as /bin/sh (POSIX mode).
func diffShells(t testing.TB) [][]string {
	var shells [][]string
	for _, s := range [][]string{{"dash"}, {"bash"}, {"bash", "--posix"}} {
		if _, err := exec.LookPath(s[0]); err != nil {
			t.Skipf("the differential shell test needs %s (apt-get install dash bash)", s[0])
		}
		shells = append(shells, s)
	}
	return shells
}

// batchRunner runs each script of a batch in a subshell of one shell
// process (eval parses the string as sh -c would) and prints the index of
// every script after which the canary file exists.
const batchRunner = `i=0
for s; do
  (eval "$s") </dev/null >/dev/null 2>&1
  if [ -e "$C" ]; then echo "$i"; rm -f "$C"; fi
  i=$((i+1))
done
`

// runBatch runs scripts under shell in dir and returns the indexes of the
// scripts that created the canary.
func runBatch(shell []string, dir string, scripts []string) ([]int, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	args := append(append([]string{}, shell[1:]...), "-c", batchRunner, "sh")
	cmd := exec.CommandContext(ctx, shell[0], append(args, scripts...)...)
	cmd.Dir = dir
	canary := filepath.Join(dir, "canary")
	cmd.Env = append(os.Environ(), "C="+canary)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("%s: batch runner failed: %v", strings.Join(shell, " "), err)
	}
	var hit []int
	for _, f := range strings.Fields(string(out)) {
		i, err := strconv.Atoi(f)
		if err != nil {
			return nil, fmt.Errorf("batch runner printed %q", f)
		}
		hit = append(hit, i)
	}
	return hit, nil
}

// diffCase is one template with one set of values, rendered.
type diffCase struct {
	t      *genTemplate
	vals   []any
	script string
}

func TestShellDifferential(t *testing.T) {
	shells := diffShells(t)
	// Templates are generated until nAccepted pass the checker; each
	// runs with nValues sets of hostile values.
	nAccepted, nValues := 2000, 2
	if testing.Short() {
		nAccepted = 300
	}
	var templates []*genTemplate
	r := rand.New(rand.NewSource(2))
	var cases []diffCase
	refused, runtimeRefused, accepted, reparsed := 0, 0, 0, 0
	for seed := int64(1); accepted < nAccepted; seed++ {
		tp := generate(seed, 1)[0]
		templates = append(templates, tp)
		plan, ok := diffCheck(tp)
		if !ok {
			refused++
			continue
		}
		accepted++
		for j := 0; j < nValues; j++ {
			vals := values(tp, r)
			script, ranges, err := diffRender(plan, tp, vals)
			if err != nil {
				runtimeRefused++
				continue
			}
			benign, bRanges, err := diffRender(plan, tp, benignValues(tp, vals))
			if err != nil {
				t.Fatalf("template %q: benign values refused: %v", tp, err)
			}
			for _, lang := range []syntax.LangVariant{syntax.LangPOSIX, syntax.LangBash} {
				got, errGot := shellShape(script, lang, ranges)
				want, errWant := shellShape(benign, lang, bRanges)
				if (errGot == nil) != (errWant == nil) || got != want {
					reparsed++
					if reparsed <= 10 {
						t.Errorf("template %q values %s: the values change how %s parses the script\nscript: %q\nbenign: %q", tp, shorten(fmt.Sprintf("%q", vals), 300), lang, shorten(script, 500), shorten(benign, 500))
					}
				}
			}
			cases = append(cases, diffCase{t: tp, vals: vals, script: script})
		}
	}
	// The shells run at the same time, each in its own directory.
	var mu sync.Mutex
	injections := 0
	perShell := map[string]int{}
	var wg sync.WaitGroup
	for _, sh := range shells {
		dir := t.TempDir()
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := strings.Join(sh, " ")
			for start := 0; start < len(cases); {
				end, size := start, 0
				for end < len(cases) && (end == start || size+len(cases[end].script) < 512<<10) && end-start < 200 {
					size += len(cases[end].script)
					end++
				}
				batch := make([]string, end-start)
				for i := range batch {
					batch[i] = cases[start+i].script
				}
				hits, err := runBatch(sh, dir, batch)
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				for _, i := range hits {
					c := cases[start+i]
					injections++
					perShell[name]++
					if injections <= 20 {
						t.Errorf("%s: injection: template %q values %s\nscript:\n%s", name, c.t, shorten(fmt.Sprintf("%q", c.vals), 300), shorten(c.script, 2000))
					}
				}
				mu.Unlock()
				start = end
			}
		}()
	}
	wg.Wait()
	throughAction(t, shells, cases, 60)
	t.Logf("%d templates: %d refused by the checker, %d accepted; %d runs refused at run time; %d template×values runs under each of %d shells; %d injections",
		len(templates), refused, accepted, runtimeRefused, len(cases), len(shells), injections)
	t.Logf("injections per shell: %v; runs whose values changed the parse: %d", perShell, reparsed)
}

// holeType is the checked type of a hole.
func holeType(k holeKind) *schema.Type {
	switch k {
	case holeList:
		return schema.ListOf(schema.StringType)
	case holeInt:
		return schema.IntType
	}
	return schema.StringType
}

// diffCheck vets a template as smithc check does, with the holes' types,
// and returns its plan, or false when the checker refuses it.
func diffCheck(tp *genTemplate) ([]shellSlot, bool) {
	types := make([]*schema.Type, len(tp.holes))
	for i, k := range tp.holes {
		types[i] = holeType(k)
	}
	for _, p := range checkShellTemplate(tp.lits, types) {
		if !p.Warning {
			return nil, false
		}
	}
	slots, p := planShell(tp.lits)
	return slots, p == nil
}

// diffRender renders a template as the shell action does, and returns
// where in the script each value was written.
func diffRender(plan []shellSlot, tp *genTemplate, vals []any) (string, [][2]int, error) {
	var b strings.Builder
	b.WriteString(tp.lits[0])
	var ranges [][2]int
	for i, v := range vals {
		q, err := quoteSlot(plan[i], v)
		if err != nil {
			return "", nil, err
		}
		ranges = append(ranges, [2]int{b.Len(), b.Len() + len(q)})
		b.WriteString(q)
		b.WriteString(tp.lits[i+1])
	}
	return b.String(), ranges, nil
}

// benignValues are values of the holes' kinds that change nothing: a
// value may change how the script parses only inside its own words.
func benignValues(t *genTemplate, vals []any) []any {
	out := make([]any, len(vals))
	for i, v := range vals {
		switch x := v.(type) {
		case []any:
			l := make([]any, len(x))
			for j := range l {
				l[j] = "b b"
			}
			out[i] = l
		case int64:
			out[i] = int64(-7)
		default:
			out[i] = "b b"
		}
	}
	return out
}

// throughAction runs the first n cases through the shell action itself
// (Config.Shell set to each shell), checks that it renders the script the
// batch ran, and looks for the canary.
func throughAction(t *testing.T, shells [][]string, cases []diffCase, n int) {
	for _, sh := range shells {
		if len(sh) > 1 {
			continue // Config.Shell is one program
		}
		path, _ := exec.LookPath(sh[0])
		for _, c := range cases[:min(n, len(cases))] {
			env := map[string]any{}
			var parts []ir.TemplatePart
			for i, l := range c.t.lits {
				if l != "" {
					parts = append(parts, ir.TemplatePart{Lit: l})
				}
				if i < len(c.vals) {
					name := fmt.Sprintf("v%d", i)
					env[name] = c.vals[i]
					parts = append(parts, ir.TemplatePart{Expr: ex(name)})
				}
			}
			step := &ir.Step{Action: ActionShell, Args: map[string]*ir.Expr{"run": {Template: parts}, "allow_failure": ex("true")}}
			a, rec := newAttempt(t, step, env)
			canary := filepath.Join(a.Dir, "canary")
			cfg := Config{Shell: path, EnvironFunc: func() []string { return append(os.Environ(), "C="+canary) }}
			if _, err := run(t, cfg, a); err != nil {
				var se *runtime.StepError
				if !errors.As(err, &se) || se.Kind != runtime.ErrKindExit {
					t.Errorf("%s: template %q: %v", path, c.t, err)
					continue
				}
			}
			if cmds := rec.kinds("ShellCommand"); len(cmds) != 1 || cmds[0]["run"] != shorten(c.script, maxLoggedCommand) {
				t.Errorf("%s: template %q: the action ran another script than the batch: %v", path, c.t, cmds)
			}
			if _, err := os.Stat(canary); err == nil {
				t.Errorf("%s: injection through the action: template %q values %s", path, c.t, shorten(fmt.Sprintf("%q", c.vals), 300))
			}
		}
	}
}

// BenchmarkPlanShell measures classifying a typical run template (both
// parses), which smithc check and every run of the step do once.
func BenchmarkPlanShell(b *testing.B) {
	lits := []string{"git diff --stat --end-of-options ", "..", " -- ", " | tee \"$(basename ", ").log\"\necho $(( ", " + 1 ))"}
	for b.Loop() {
		if _, p := planShell(lits); p != nil {
			b.Fatal(p.msg)
		}
	}
}
