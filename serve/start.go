package serve

import (
	"context"
	"net/http"

	"github.com/smithc/smithc/runtime"
	"github.com/smithc/smithc/schema"
)

// workflowJSON is a workflow a new run can be started from: one per
// stored program and workflow, from its newest run.
type workflowJSON struct {
	Workflow   string      `json:"workflow"`
	SourceHash string      `json:"source_hash"`
	SourcePath string      `json:"source_path,omitempty"`
	FromRun    string      `json:"from_run"`
	Input      []fieldJSON `json:"input,omitempty"`
}

func (s *Server) listWorkflows(w http.ResponseWriter, r *http.Request) {
	out, err := s.workflows(r.Context())
	if err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"workflows": out})
}

func (s *Server) workflows(ctx context.Context) ([]workflowJSON, error) {
	runs, _, err := s.eng.RunList(ctx, runtime.RunListParams{})
	if err != nil {
		return nil, err
	}
	seen := map[[2]string]bool{}
	out := []workflowJSON{}
	for _, run := range runs { // newest first
		k := [2]string{run.SourceHash, run.Workflow}
		if seen[k] || run.ParentRunID != "" {
			continue
		}
		seen[k] = true
		_, wf, err := s.eng.RunProgram(ctx, run.ID)
		if err != nil {
			continue // stored without sources: nothing to start from
		}
		wj := workflowJSON{Workflow: run.Workflow, SourceHash: run.SourceHash, SourcePath: run.SourcePath, FromRun: run.ID}
		if wf.Input != nil {
			wj.Input = formFields(wf.Input)
		}
		out = append(out, wj)
	}
	return out, nil
}

type startBody struct {
	Workflow string         `json:"workflow"`
	FromRun  string         `json:"from_run"`
	Input    map[string]any `json:"input"`
	RunID    string         `json:"run_id"`
}

// startRun starts a new run of a stored program (the one a previous run
// stored), executed in the server until it finishes or waits for
// something the server cannot do by itself.
func (s *Server) startRun(w http.ResponseWriter, r *http.Request) {
	var b startBody
	if !readJSON(w, r, &b) {
		return
	}
	if b.FromRun == "" {
		writeError(w, http.StatusBadRequest, "from_run", "from_run must name a run whose stored program to start (GET /api/v1/workflows lists them)")
		return
	}
	ctx := r.Context()
	prog, wf, err := s.eng.RunProgram(ctx, b.FromRun)
	if err != nil {
		fail(w, r, err)
		return
	}
	if b.Workflow != "" && b.Workflow != wf.Name {
		if wf = prog.Workflow(b.Workflow); wf == nil {
			writeError(w, http.StatusBadRequest, "workflow", "the program of run "+b.FromRun+" has no workflow "+b.Workflow)
			return
		}
	}
	input := b.Input
	if input == nil {
		input = map[string]any{}
	}
	// Checked here so that a bad input is a 400 naming the field before
	// anything starts; Start checks it again with the defaults applied.
	if wf.Input != nil {
		probe := map[string]any{}
		for k, v := range input {
			probe[k] = v
		}
		for _, f := range wf.Input.Fields {
			if _, ok := probe[f.Name]; !ok && f.HasDefault {
				probe[f.Name] = f.Default
			}
		}
		if _, err := schema.Normalize(wf.Input, schema.Canonical(probe), "input"); err != nil {
			writeError(w, http.StatusBadRequest, fieldOf(err.Error()), err.Error())
			return
		}
	}
	srcs, err := s.eng.Sources(ctx, b.FromRun)
	if err != nil {
		fail(w, r, err)
		return
	}
	id := b.RunID
	if id == "" {
		id = runtime.NewRunID()
	}
	if err := s.startBackground(id, func() (*runtime.Result, error) {
		return s.eng.Start(s.bg, runtime.StartParams{Program: prog, Workflow: wf.Name, Input: input, RunID: id,
			Sources: srcs, Wait: runtime.WaitAlways})
	}); err != nil {
		fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"run_id": id, "status": "running"})
}
