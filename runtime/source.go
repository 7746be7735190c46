package runtime

import (
	"context"
	"errors"
	"fmt"

	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime/store"
)

// Source is one file of a run's program. Start stores the files it is
// given with the run (content-addressed, see store.SourceFile), and a run
// being continued is compiled from that stored copy through
// Config.CompileFunc: moving, editing or deleting the file on disk does
// not affect a run. The runtime never reads or parses them itself.
type Source struct {
	// Path names the file as the compiler read it: the first Source of a
	// program is its main file, imports are resolved relative to it.
	Path    string
	Content []byte
}

// ErrNoSources is returned (wrapped, naming the run) when a run must be
// compiled but was stored without its sources (it was started by an
// older smithc, or by a caller that passed none): adopt a source file
// explicitly (ResumeParams.Program with Sources; smithc resume --source).
var ErrNoSources = errors.New("the run has no stored sources")

func toStoreSources(srcs []Source) []*store.SourceFile {
	if srcs == nil {
		return nil
	}
	out := make([]*store.SourceFile, len(srcs))
	for i, s := range srcs {
		c := s.Content
		if c == nil {
			c = []byte{}
		}
		out[i] = &store.SourceFile{Path: s.Path, Hash: store.HashSource(c), Content: c}
	}
	return out
}

// Sources returns the stored files of a run's program, main file first
// (an empty list for a run stored without them).
func (e *Engine) Sources(ctx context.Context, runID string) ([]Source, error) {
	files, err := e.cfg.Store.RunSourceList(ctx, &store.RunSourceListParams{RunID: runID})
	if err != nil {
		return nil, fmt.Errorf("runtime: sources of run %s: %w", runID, err)
	}
	out := make([]Source, len(files))
	for i, f := range files {
		out[i] = Source{Path: f.Path, Content: f.Content}
	}
	return out, nil
}

// storedProgram compiles a run's program from its stored sources with
// Config.CompileFunc, once per source hash and engine.
func (e *Engine) storedProgram(ctx context.Context, run *store.Run) (*ir.Program, []Source, error) {
	e.mu.Lock()
	c, ok := e.compiled[run.SourceHash]
	e.mu.Unlock()
	if ok && run.SourceHash != "" {
		return c.prog, c.srcs, nil
	}
	if e.cfg.CompileFunc == nil {
		return nil, nil, fmt.Errorf("runtime: run %s: no program given and no CompileFunc configured", run.ID)
	}
	srcs, err := e.Sources(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	prog, err := e.cfg.CompileFunc(ctx, srcs)
	if err != nil {
		if len(srcs) == 0 {
			return nil, nil, fmt.Errorf("runtime: run %s: %w: %v", run.ID, ErrNoSources, err)
		}
		return nil, nil, fmt.Errorf("runtime: compile the stored source of run %s: %w", run.ID, err)
	}
	if prog == nil {
		return nil, nil, fmt.Errorf("runtime: run %s: %w", run.ID, ErrNoSources)
	}
	if run.SourceHash != "" {
		e.mu.Lock()
		e.compiled[run.SourceHash] = compiledProgram{prog: prog, srcs: srcs}
		e.mu.Unlock()
	}
	return prog, srcs, nil
}

// compiledProgram is a program compiled from stored sources.
type compiledProgram struct {
	prog *ir.Program
	srcs []Source
}

// RunProgram returns the program and workflow of a run, compiled from its
// stored sources: what `graph --run`, inspect and the hints of a waiting
// run read.
func (e *Engine) RunProgram(ctx context.Context, runID string) (*ir.Program, *ir.Workflow, error) {
	run, err := e.cfg.Store.RunGetByID(ctx, &store.RunGetByIDParams{ID: runID})
	if err != nil {
		return nil, nil, fmt.Errorf("runtime: run %s: %w", runID, err)
	}
	prog, _, err := e.storedProgram(ctx, run)
	if err != nil {
		return nil, nil, err
	}
	wf := prog.Workflow(run.Workflow)
	if wf == nil {
		return nil, nil, fmt.Errorf("runtime: run %s: its program has no workflow %q", runID, run.Workflow)
	}
	e.mu.Lock()
	wf.Lookup("") // builds the index and Parent links once
	e.mu.Unlock()
	return prog, wf, nil
}
