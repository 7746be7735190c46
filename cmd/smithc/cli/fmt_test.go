package cli_test

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

const unformatted = `// deploy
workflow deploy {
  input { env: string = "staging" }
  step build {
      run = "make"
      timeout = "5m"   // generous
  }
  step ship { run = "echo ship ${input.env}" }
}
`

const formatted = `// deploy
workflow deploy {
  input { env: string = "staging" }
  step build {
    run     = "make"
    timeout = "5m" // generous
  }

  step ship { run = "echo ship ${input.env}" }
}
`

func TestFmtRewritesInPlace(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("deploy.smw", unformatted)
	r := e.cli("fmt", f)
	mustCode(t, r, 0)
	if got := e.read("deploy.smw"); got != formatted {
		t.Fatalf("fmt wrote:\n%s\nwant:\n%s", got, formatted)
	}
	st, err := os.Stat(f)
	if err != nil || st.Mode().Perm() != 0o644 {
		t.Errorf("mode after fmt: %v, %v; want 0644", st.Mode(), err)
	}
	// A second run changes nothing and --check agrees.
	mustCode(t, e.cli("fmt", f), 0)
	mustCode(t, e.cli("fmt", "--check", f), 0)
	if got := e.read("deploy.smw"); got != formatted {
		t.Fatalf("second fmt changed the file:\n%s", got)
	}
}

func TestFmtCheckListsAndFails(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	if err := os.MkdirAll(e.path("sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	bad := e.write("sub/deploy.smw", unformatted)
	e.write("ok.smw", formatted)
	r := e.cli("fmt", "--check", e.dir)
	mustCode(t, r, 1)
	if strings.TrimSpace(r.stdout) != bad {
		t.Errorf("--check listed %q, want only %s", r.stdout, bad)
	}
	if e.read("sub/deploy.smw") != unformatted || e.read("ok.smw") != formatted {
		t.Error("--check wrote a file")
	}
}

func TestFmtDiffIsAUnifiedDiff(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	f := e.write("deploy.smw", unformatted)
	r := e.cli("fmt", "--diff", f)
	mustCode(t, r, 0)
	mustContain(t, "stdout", r.stdout, "--- "+f, "+++ "+f, "@@ -2,8 +2,9 @@",
		"-      run = \"make\"\n", "+    run     = \"make\"\n")
	if e.read("deploy.smw") != unformatted {
		t.Error("--diff wrote the file")
	}
	// patch(1) applies it and gives the formatted text.
	if _, err := exec.LookPath("patch"); err != nil {
		t.Skip("patch is not installed; the diff was not applied")
	}
	p := exec.Command("patch", "-s", f)
	p.Stdin = strings.NewReader(r.stdout)
	if out, err := p.CombinedOutput(); err != nil {
		t.Fatalf("patch: %v\n%s", err, out)
	}
	if got := e.read("deploy.smw"); got != formatted {
		t.Errorf("the patched file:\n%s\nwant:\n%s", got, formatted)
	}
	mustCode(t, e.cli("fmt", "--check", "--diff", f), 0)
	r = e.cli("fmt", "--check", "--diff", e.write("other.smw", unformatted))
	mustCode(t, r, 1)
}

func TestFmtSyntaxErrorsAreCheckDiagnostics(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	src := "workflow w {\n  step a { value = (1 }\n}\n"
	f := e.write("broken.smw", src)
	fr := e.cli("fmt", f)
	mustCode(t, fr, 1)
	cr := e.cli("check", f)
	mustCode(t, cr, 1)
	if fr.stderr != cr.stderr {
		t.Errorf("fmt reported:\n%s\ncheck reported:\n%s", fr.stderr, cr.stderr)
	}
	if e.read("broken.smw") != src {
		t.Error("fmt wrote a file that does not parse")
	}
}

func TestFmtExamplesAreFormatted(t *testing.T) {
	t.Parallel()
	r := runMain([]string{"fmt", "--check", examplesDir(t)})
	mustCode(t, r, 0)
}
