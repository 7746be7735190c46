package smithc_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/cmd/smithc/cli"
	"github.com/smithc/smithc/internal/golden"
	_ "github.com/smithc/smithc/runtime/store/sqlitestore" // the "sqlite" driver, for the sql command
)

// runToDo lists the run goldens that show a known bug. Each such case
// still runs; its archive holds the behaviour the brief asks for (edited
// by hand), and the harness reports the difference through t.Skip with
// the reason, so CI stays green. When a case starts to behave as its
// archive says, the harness fails and asks for its entry to be removed.
// Under SMITHC_UPDATE=1 these archives are left alone.
var runToDo = map[string]string{}

// TestRunGolden runs every testdata/golden/run/*.txtar: the archive's
// in.smw (and any other files) in a fresh directory with its own store,
// driven by the commands of its `cmds` file through cli.Main in-process.
//
// Files under bin/ and files named *.sh are made executable. The cmds
// file has one command a line; blank lines and lines starting
// with # are ignored. Words are split like a shell's (single and double
// quotes), $RUN stands for the id of the last run started by `run`, and
// $SERVER for the URL of a test HTTP server (see serve).
//
//	run in.smw --input n=3 --run-id r1     any smithc command line
//	env NAME=VALUE                          set an environment variable ($WORK is the case's
//	                                        directory; $NAME expands from the environment)
//	write FILE TEXT...                      write TEXT (the rest of the line, verbatim) and a newline to FILE
//	sleep DURATION                          wait (for a timer to be due)
//	nodes RUN                               the reduced node table of RUN
//	bg COMMAND...                           start a smithc command in the background
//	wait                                    wait for it; its result goes here
//	exitonly COMMAND...                     a smithc command whose exit code alone is kept
//	waitfile FILE                           wait until FILE exists (20s at most)
//	waitnode RUN NODE STATE                 wait until a NODE of RUN is in STATE
//	sql QUERY...                            the rows of a query on the case's store
//	gitinit                                 make the directory a git repository, all committed
//
// A `bg run` must name its --run-id.
//
// Sections: out/transcript holds, for each command, the command, its
// exit code, its stdout, and the `smithc:` and diagnostic lines of its
// stderr (progress lines are left out), normalized; out/nodes holds the
// node table of the last run at the end (the form of `nodes`).
//
// The cases run one after another (each changes the working directory);
// they wait with waitfile/waitnode rather than sleeps wherever a live
// run must reach a point, and never assert how long anything took.
func TestRunGolden(t *testing.T) {
	golden.Run(t, "testdata/golden/run", func(t *testing.T, c *golden.Case) map[string]string {
		got := runCase(t, c)
		reason, todo := runToDo[c.Name]
		if !todo {
			return got
		}
		var diffs []string
		for _, sec := range []string{"transcript", "nodes"} {
			want, _ := c.File("out/" + sec)
			g := got[sec]
			if g != "" && !strings.HasSuffix(g, "\n") {
				g += "\n"
			}
			if string(want) != g {
				diffs = append(diffs, fmt.Sprintf("out/%s (-want +got):\n%s", sec, cmp.Diff(string(want), g)))
			}
		}
		if len(diffs) == 0 {
			t.Fatalf("%s is listed in runToDo (%s) but now behaves as its archive says: remove it from runToDo", c.Name, reason)
		}
		if !strings.HasPrefix(diffs[0], "out/transcript") {
			reason += " (the transcript now matches: if the bug is fixed, remove the entry, regenerate with SMITHC_UPDATE=1 and review out/nodes, whose control-node rows were written by hand)"
		}
		t.Skipf("known bug: %s\n%s", reason, strings.Join(diffs, "\n"))
		return nil
	})
}

// runState is what a case's commands share.
type runState struct {
	dir    string // the case's directory (its working directory)
	lastID string // the id of the last run started
	server string // the URL of the case's HTTP server, once started
	flaky  atomic.Int32
}

// serve starts the case's HTTP server on first use and returns its URL.
// It answers, without a Date header:
//
//	/echo         200, JSON {method, path, query, content_type, x_test, body}
//	/status/N     status N, text "status N"
//	/flaky/N      503 for the first N requests to it, then 200 {"ok": true}
//	/text         200, text "hello"
//	/v1/chat/completions  an OpenAI-compatible chat stand-in
func (st *runState) serve(t *testing.T) string {
	if st.server != "" {
		return st.server
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil
		switch {
		case r.URL.Path == "/echo":
			body, _ := io.ReadAll(r.Body)
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"method": r.Method, "path": r.URL.Path, "query": r.URL.RawQuery,
				"content_type": r.Header.Get("Content-Type"), "x_test": r.Header.Get("X-Test"),
				"body": string(body),
			})
		case strings.HasPrefix(r.URL.Path, "/status/"):
			code, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/status/"))
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(code)
			fmt.Fprintf(w, "status %d", code)
		case strings.HasPrefix(r.URL.Path, "/flaky/"):
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/flaky/"))
			if int(st.flaky.Add(1)) <= n {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"ok": true}`)
		case r.URL.Path == "/v1/chat/completions":
			// An OpenAI-compatible stand-in: a typed step's prompt asks for
			// JSON; any other prompt gets its first line and the
			// Authorization header back.
			var req struct {
				Model    string `json:"model"`
				Messages []struct {
					Content string `json:"content"`
				} `json:"messages"`
			}
			_ = json.NewDecoder(r.Body).Decode(&req)
			prompt := ""
			if len(req.Messages) > 0 {
				prompt = req.Messages[len(req.Messages)-1].Content
			}
			reply := `{"summary": "from ` + req.Model + `", "risk": "low"}`
			if !strings.Contains(prompt, "JSON") {
				first, _, _ := strings.Cut(prompt, "\n")
				auth := "none"
				if h := r.Header.Get("Authorization"); strings.HasPrefix(h, "Bearer ") && len(h) > len("Bearer ") {
					auth = "bearer token sent" // not echoed: a step output holding a secret is refused
				}
				reply = "model " + req.Model + " read: " + first + " (auth: " + auth + ")"
			}
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{
				"choices": []any{map[string]any{"message": map[string]any{"role": "assistant", "content": reply}}},
				"usage":   map[string]any{"prompt_tokens": 3, "completion_tokens": 4},
			})
		case r.URL.Path == "/text":
			w.Header().Set("Content-Type", "text/plain")
			fmt.Fprint(w, "hello")
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	st.server = srv.URL
	return st.server
}

func runCase(t *testing.T, c *golden.Case) map[string]string {
	dir := t.TempDir()
	t.Chdir(dir)
	t.Setenv("SMITHC_DB", "")
	cmds, ok := c.File("cmds")
	if !ok {
		t.Fatalf("%s: no cmds file", c.Path)
	}
	for _, f := range c.Inputs() {
		if f.Name == "cmds" {
			continue
		}
		p := filepath.Join(dir, filepath.FromSlash(f.Name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o644)
		if strings.HasSuffix(f.Name, ".sh") || strings.HasPrefix(f.Name, "bin/") {
			mode = 0o755
		}
		if err := os.WriteFile(p, f.Data, mode); err != nil {
			t.Fatal(err)
		}
	}
	st := &runState{dir: dir}
	var tr strings.Builder
	var bg chan string // the result of the command running in the background
	for i, line := range strings.Split(string(cmds), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		expanded := strings.ReplaceAll(line, "$RUN", st.lastID)
		if strings.Contains(expanded, "$SERVER") {
			expanded = strings.ReplaceAll(expanded, "$SERVER", st.serve(t))
		}
		words, err := splitWords(expanded)
		if err != nil {
			t.Fatalf("%s: cmds line %d: %v", c.Path, i+1, err)
		}
		fmt.Fprintf(&tr, "$ %s\n", line)
		switch words[0] {
		case "env":
			k, v, ok := strings.Cut(strings.Join(words[1:], " "), "=")
			if !ok {
				t.Fatalf("%s: cmds line %d: env NAME=VALUE", c.Path, i+1)
			}
			t.Setenv(k, os.Expand(v, func(name string) string {
				if name == "WORK" {
					return dir
				}
				return os.Getenv(name)
			}))
		case "write":
			if len(words) < 2 {
				t.Fatalf("%s: cmds line %d: write FILE TEXT", c.Path, i+1)
			}
			// TEXT is the rest of the line as written, quotes and all.
			_, rest, _ := strings.Cut(line, " ")
			_, text, _ := strings.Cut(strings.TrimLeft(rest, " "), " ")
			if err := os.WriteFile(filepath.Join(dir, words[1]), []byte(text+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		case "sleep":
			d, err := time.ParseDuration(words[1])
			if err != nil {
				t.Fatalf("%s: cmds line %d: %v", c.Path, i+1, err)
			}
			time.Sleep(d)
		case "nodes":
			tr.WriteString(st.nodes(t, words[1]))
		case "bg":
			if bg != nil {
				t.Fatalf("%s: cmds line %d: one bg command at a time", c.Path, i+1)
			}
			if words[1] == "run" {
				st.noteRun(words[1:], "")
			}
			bg = make(chan string, 1)
			go func(words []string) {
				code, out, errOut := runCLI(words)
				bg <- st.result(code, out, errOut)
			}(words[1:])
		case "wait":
			if bg == nil {
				t.Fatalf("%s: cmds line %d: wait without bg", c.Path, i+1)
			}
			select {
			case r := <-bg:
				tr.WriteString(r)
			case <-time.After(30 * time.Second):
				t.Fatalf("%s: cmds line %d: the bg command did not end within 30s", c.Path, i+1)
			}
			bg = nil
		case "waitfile", "waitnode":
			if !st.poll(words) {
				t.Fatalf("%s: cmds line %d: still not so after 20s", c.Path, i+1)
			}
		case "sql":
			_, query, _ := strings.Cut(line, " ")
			tr.WriteString(st.normalize(sqlQuery(t, filepath.Join(dir, "smithers.db"), query)))
		case "gitinit":
			runGitInit(t, dir)
		case "exitonly":
			code, _, _ := runCLI(words[1:])
			fmt.Fprintf(&tr, "exit %d\n", code)
		default:
			code, out, errOut := runCLI(words)
			if words[0] == "run" {
				st.noteRun(words, out)
			}
			tr.WriteString(st.result(code, out, errOut))
		}
	}
	if bg != nil {
		t.Fatalf("%s: a bg command was never waited for", c.Path)
	}
	nodes := "(no run)\n"
	if st.lastID != "" {
		nodes = st.nodes(t, st.lastID)
	}
	return map[string]string{"transcript": tr.String(), "nodes": nodes}
}

// poll waits up to 20s for `waitfile FILE` (the file exists) or
// `waitnode RUN NODE STATE` (a node of the run has that state).
func (st *runState) poll(words []string) bool {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		switch words[0] {
		case "waitfile":
			if _, err := os.Stat(filepath.Join(st.dir, words[1])); err == nil {
				return true
			}
		case "waitnode":
			code, out, _ := runCLI([]string{"inspect", words[1], "--format", "json"})
			var r struct {
				Nodes []struct {
					NodeID string `json:"node_id"`
					State  string `json:"state"`
				} `json:"nodes"`
			}
			if code == 0 && json.Unmarshal([]byte(out), &r) == nil {
				for _, n := range r.Nodes {
					if n.NodeID == words[2] && n.State == words[3] {
						return true
					}
				}
			}
		}
	}
	return false
}

// sqlQuery runs a query on the case's store and returns the rows, one a
// line, columns separated by " | ", after a header line.
func sqlQuery(t *testing.T, path, query string) string {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(query)
	if err != nil {
		return fmt.Sprintf("sql error: %v\n", err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var b strings.Builder
	b.WriteString(strings.Join(cols, " | ") + "\n")
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		cells := make([]string, len(cols))
		for i, v := range vals {
			switch v := v.(type) {
			case nil:
				cells[i] = "NULL"
			case []byte:
				cells[i] = string(v)
			default:
				cells[i] = fmt.Sprint(v)
			}
		}
		b.WriteString(strings.Join(cells, " | ") + "\n")
	}
	if err := rows.Err(); err != nil {
		fmt.Fprintf(&b, "sql error: %v\n", err)
	}
	return b.String()
}

// runGitInit makes dir a git repository on branch main with everything
// in it committed.
func runGitInit(t *testing.T, dir string) {
	t.Helper()
	for _, args := range [][]string{
		{"init", "-q", "-b", "main"},
		{"add", "-A"},
		{"-c", "user.name=t", "-c", "user.email=t@example.test", "commit", "-q", "--allow-empty", "-m", "init"},
	} {
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
}

// result is the transcript of one command: its exit code, its stdout and
// the `smithc:` and diagnostic lines of its stderr, normalized.
func (st *runState) result(code int, out, errOut string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "exit %d\n", code)
	b.WriteString(st.normalize(out))
	if out != "" && !strings.HasSuffix(out, "\n") {
		b.WriteString("\n")
	}
	for _, l := range strings.Split(errOut, "\n") {
		if strings.HasPrefix(l, "smithc: ") || reDiag.MatchString(l) {
			fmt.Fprintf(&b, "stderr: %s\n", st.normalize(l))
		}
	}
	return b.String()
}

func runCLI(args []string) (int, string, string) {
	var out, errb bytes.Buffer
	code := cli.Main(context.Background(), args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// noteRun remembers the id of the run a `run` command started: its
// --run-id, or the id its result names.
func (st *runState) noteRun(words []string, out string) {
	for i, w := range words {
		if w == "--run-id" && i+1 < len(words) {
			st.lastID = words[i+1]
			return
		}
		if id, ok := strings.CutPrefix(w, "--run-id="); ok {
			st.lastID = id
			return
		}
	}
	var r struct {
		RunID string `json:"run_id"`
	}
	if json.Unmarshal([]byte(out), &r) == nil && r.RunID != "" {
		st.lastID = r.RunID
		return
	}
	if m := regexp.MustCompile(`(?m)^run (\S+) `).FindStringSubmatch(out); m != nil {
		st.lastID = m[1]
	}
}

var (
	reGenID     = regexp.MustCompile(`\b\d{8}T\d{6}-[0-9a-f]{8}\b`)
	reTimestamp = regexp.MustCompile(`\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})?`)
	reClock     = regexp.MustCompile(`(?m)^\d{2}:\d{2}:\d{2}  `)
	reOwner     = regexp.MustCompile(`\b\d+@[A-Za-z0-9._-]+\b`)
	reMillis    = regexp.MustCompile(`"(elapsed|duration)_ms": \d+`)
	reDiag      = regexp.MustCompile(`^\S+\.smw(:\d+:\d+(-\d+)?)?: (error|warning)`)
)

// normalize replaces what changes from one execution to the next with
// stable placeholders: the case's directory, generated run ids, times
// and process owners.
func (st *runState) normalize(s string) string {
	if real, err := filepath.EvalSymlinks(st.dir); err == nil && real != st.dir {
		s = strings.ReplaceAll(s, real, "$WORK")
	}
	s = strings.ReplaceAll(s, st.dir, "$WORK")
	if st.server != "" {
		s = strings.ReplaceAll(s, st.server, "$SERVER")
	}
	s = reGenID.ReplaceAllString(s, "<RUN-ID>")
	s = reTimestamp.ReplaceAllString(s, "<TIME>")
	s = reClock.ReplaceAllString(s, "<HH:MM:SS>  ")
	s = reOwner.ReplaceAllString(s, "<OWNER>")
	s = reMillis.ReplaceAllString(s, `"${1}_ms": <MS>`)
	return s
}

// nodes returns the node table of a run from `inspect --format json`,
// one line per node instance: id, scope, iteration, state, attempts,
// and the output or the error.
func (st *runState) nodes(t *testing.T, runID string) string {
	t.Helper()
	code, out, errOut := runCLI([]string{"inspect", runID, "--format", "json"})
	if code != 0 {
		return fmt.Sprintf("(inspect %s: exit %d: %s)\n", runID, code, st.normalize(strings.TrimSpace(errOut)))
	}
	var r struct {
		Status string `json:"status"`
		Nodes  []struct {
			NodeID    string          `json:"node_id"`
			Scope     string          `json:"scope"`
			Iteration int             `json:"iteration"`
			State     string          `json:"state"`
			Attempts  int             `json:"attempts"`
			Output    json.RawMessage `json:"output"`
			Error     *string         `json:"error"`
			ErrorKind *string         `json:"error_kind"`
		} `json:"nodes"`
	}
	if err := json.Unmarshal([]byte(out), &r); err != nil {
		t.Fatalf("inspect %s: %v\n%s", runID, err, out)
	}
	type row struct{ key, line string }
	rows := make([]row, 0, len(r.Nodes))
	for _, n := range r.Nodes {
		var b strings.Builder
		fmt.Fprintf(&b, "%s", n.NodeID)
		if n.Scope != "" {
			fmt.Fprintf(&b, " scope=%s", n.Scope)
		}
		if n.Iteration != 0 {
			fmt.Fprintf(&b, " iter=%d", n.Iteration)
		}
		fmt.Fprintf(&b, " %s attempts=%d", n.State, n.Attempts)
		if len(n.Output) > 0 && string(n.Output) != "null" {
			var buf bytes.Buffer
			if err := json.Compact(&buf, n.Output); err == nil {
				fmt.Fprintf(&b, " output=%s", buf.String())
			}
		}
		if n.Error != nil {
			kind := ""
			if n.ErrorKind != nil {
				kind = *n.ErrorKind
			}
			fmt.Fprintf(&b, " error[%s]=%q", kind, *n.Error)
		}
		rows = append(rows, row{key: naturalKey(n.NodeID + "\x00" + n.Scope + "\x00" + strconv.Itoa(n.Iteration)), line: st.normalize(b.String())})
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].key < rows[j].key })
	var b strings.Builder
	fmt.Fprintf(&b, "run %s %s\n", runID, r.Status)
	for _, row := range rows {
		b.WriteString(row.line + "\n")
	}
	return b.String()
}

var reDigits = regexp.MustCompile(`\d+`)

// naturalKey pads numbers so that "w[10]" sorts after "w[9]".
func naturalKey(s string) string {
	return reDigits.ReplaceAllStringFunc(s, func(d string) string {
		return strings.Repeat("0", max(0, 8-len(d))) + d
	})
}

// splitWords splits a command line like a shell: blanks separate words,
// '…' quotes literally, "…" quotes with \" and \\ escapes.
func splitWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		ch := s[i]
		switch {
		case ch == ' ' || ch == '\t':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case ch == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case ch == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		default:
			cur.WriteByte(ch)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	if len(words) == 0 {
		return nil, fmt.Errorf("empty command")
	}
	return words, nil
}
