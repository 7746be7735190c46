package cli

import (
	"context"
	"encoding/json"
	"errors"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
	"github.com/smithc/smithc/runtime"
)

// compileOrReport builds file and prints its diagnostics; it returns nil
// and an exit error when the file does not check.
func (a *app) compileOrReport(file string, code int) (*compiler.Result, error) {
	res := build(file)
	if res.Program == nil {
		printDiags(a.stderr, res)
		return nil, &exitError{code: code}
	}
	if len(res.Diagnostics) > 0 {
		printDiags(a.stderr, res)
	}
	return res, nil
}

func (a *app) newCompileCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "compile FILE",
		Short: "Print the graph IR of a workflow file",
		Long: `Compile a .smw file and print its graph IR: one node per step, approval,
timer, event and control construct, with durable ids, dependencies,
expressions with their types, and schemas. --format json prints the same
data as JSON.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return exitf(ExitUsage, "--format must be text or json, not %q", format)
			}
			res, err := a.compileOrReport(args[0], ExitFailed)
			if err != nil {
				return err
			}
			if format == "json" {
				enc := json.NewEncoder(a.stdout)
				enc.SetEscapeHTML(false)
				enc.SetIndent("", "  ")
				return enc.Encode(res.Program)
			}
			return ir.Fprint(a.stdout, res.Program)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func (a *app) newGraphCmd() *cobra.Command {
	var (
		format, workflow, runID string
		db                      dbFlags
	)
	cmd := &cobra.Command{
		Use:   "graph FILE | graph --run RUN_ID",
		Short: "Draw a workflow as a Mermaid, DOT or SVG graph",
		Long: `Draw the workflow of a file, or with --run the workflow a run executes
(from the source stored with the run, whatever the file on disk says now).`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "mermaid" && format != "dot" && format != "svg" {
				return exitf(ExitUsage, "--format must be mermaid, dot or svg, not %q", format)
			}
			var wf *ir.Workflow
			switch {
			case runID != "" && len(args) == 0:
				var err error
				if wf, err = a.runGraph(cmd.Context(), &db, runID); err != nil {
					return err
				}
			case runID == "" && len(args) == 1:
				res, err := a.compileOrReport(args[0], ExitFailed)
				if err != nil {
					return err
				}
				if wf, err = pickWorkflow(res.Program, workflow); err != nil {
					return err
				}
			default:
				return exitf(ExitUsage, "graph draws a FILE or a run (--run RUN_ID): give one of them")
			}
			switch format {
			case "dot":
				return ir.DOT(a.stdout, wf)
			case "svg":
				return ir.SVG(a.stdout, wf)
			}
			return ir.Mermaid(a.stdout, wf)
		},
	}
	cmd.Flags().StringVar(&format, "format", "mermaid", "graph format: mermaid, dot or svg")
	cmd.Flags().StringVarP(&workflow, "workflow", "w", "", "the workflow to draw (needed when the file has several)")
	cmd.Flags().StringVar(&runID, "run", "", "draw the workflow of this run, from its stored source")
	db.register(cmd)
	return cmd
}

// runGraph returns the workflow a run executes, from its stored source.
func (a *app) runGraph(ctx context.Context, f *dbFlags, runID string) (*ir.Workflow, error) {
	st, err := a.openStoreReadOnly(ctx, f)
	if err != nil {
		return nil, err
	}
	defer st.Close()
	eng, err := a.newEngine(st, engineOptions{})
	if err != nil {
		return nil, err
	}
	_, wf, err := eng.RunProgram(ctx, runID)
	if err != nil {
		return nil, a.runError(runID, err)
	}
	return wf, nil
}

// pickWorkflow returns the named workflow, or the only one, as the
// runtime picks it; its refusal is a usage error naming the file.
func pickWorkflow(p *ir.Program, name string) (*ir.Workflow, error) {
	wf, err := runtime.PickWorkflow(p, name)
	var ce *runtime.WorkflowChoiceError
	switch {
	case err == nil:
		return wf, nil
	case !errors.As(err, &ce):
		return nil, exitf(ExitUsage, "%v", err)
	case ce.Name != "":
		return nil, exitf(ExitUsage, "no workflow %q in %s; it has: %s", name, p.Files[0], workflowNames(p))
	case len(ce.Have) == 0:
		return nil, exitf(ExitUsage, "%s declares no workflow", p.Files[0])
	}
	return nil, exitf(ExitUsage, "%s declares several workflows; pick one with --workflow: %s", p.Files[0], workflowNames(p))
}

func workflowNames(p *ir.Program) string {
	s := ""
	for i, w := range p.Workflows {
		if i > 0 {
			s += ", "
		}
		s += w.Name
	}
	return s
}
