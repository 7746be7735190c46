package stdlib

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"

	"github.com/smithc/smithc/runtime"
)

// interactiveArgs are the arguments that open a CLI's session
// interactively, by kind: claude --resume ID, codex resume ID, gemini
// --resume ID (gemini-cli 0.61 takes a session's UUID there, as well as
// an index or "latest").
var interactiveArgs = map[string]func(id string) []string{
	"claude": func(id string) []string { return []string{"--resume", id} },
	"codex":  func(id string) []string { return []string{"resume", id} },
	"gemini": func(id string) []string { return []string{"--resume", id} },
}

// InteractiveCommand returns the command that opens a handed-over agent
// session in a terminal (smithc hijack): the CLI the attempt ran, with
// its session resumed, in the session's directory, with environ plus the
// agent's own env settings. notes name what the person may have to set:
// env settings that held a secret and are not in environ.
func InteractiveCommand(h *runtime.Handoff, environ []string) (cmd *exec.Cmd, notes []string, err error) {
	s := h.Session
	args, ok := interactiveArgs[s.Kind]
	if !ok {
		return nil, nil, fmt.Errorf("step %s of run %s ran agent %s of kind %q, which has no session to open interactively (want claude, codex or gemini)",
			h.NodeID, h.RunID, s.Agent, s.Kind)
	}
	if s.ID == "" {
		return nil, nil, fmt.Errorf("step %s of run %s: agent %s reported no session id", h.NodeID, h.RunID, s.Agent)
	}
	if fi, err := os.Stat(s.Dir); err != nil || !fi.IsDir() {
		return nil, nil, fmt.Errorf("the session's directory %s is gone (was its worktree removed?); %s keeps sessions per directory, so it cannot be opened elsewhere", s.Dir, s.Kind)
	}
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	env := mergeEnv(environ, s.Env, keys)
	path := s.CLI
	if path == "" || checkExecutable(path) != nil {
		if path, err = lookPath(s.Kind, env, s.Dir); err != nil {
			return nil, nil, fmt.Errorf("agent %s: %v; install %s or put it on PATH", s.Agent, err, s.Kind)
		}
	}
	have := map[string]bool{}
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		have[k] = true
	}
	for _, k := range s.SecretEnv {
		if !have[k] {
			notes = append(notes, fmt.Sprintf("agent %s's env %s holds a secret, which is not passed on: set %s in your environment if %s needs it",
				s.Agent, k, k, s.Kind))
		}
	}
	cmd = &exec.Cmd{Path: path, Args: append([]string{filepath.Base(path)}, args(s.ID)...), Dir: s.Dir, Env: env}
	return cmd, notes, nil
}
