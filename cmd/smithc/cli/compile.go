package cli

import (
	"encoding/json"

	"github.com/spf13/cobra"

	"github.com/smithc/smithc/compiler"
	"github.com/smithc/smithc/compiler/ir"
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
	var format, workflow string
	cmd := &cobra.Command{
		Use:   "graph FILE",
		Short: "Draw a workflow as a Mermaid, DOT or SVG graph",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "mermaid" && format != "dot" && format != "svg" {
				return exitf(ExitUsage, "--format must be mermaid, dot or svg, not %q", format)
			}
			res, err := a.compileOrReport(args[0], ExitFailed)
			if err != nil {
				return err
			}
			wf, err := pickWorkflow(res.Program, workflow)
			if err != nil {
				return err
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
	return cmd
}

// pickWorkflow returns the named workflow, or the only one.
func pickWorkflow(p *ir.Program, name string) (*ir.Workflow, error) {
	if name != "" {
		if wf := p.Workflow(name); wf != nil {
			return wf, nil
		}
		return nil, exitf(ExitUsage, "no workflow %q in %s; it has: %s", name, p.Files[0], workflowNames(p))
	}
	switch len(p.Workflows) {
	case 0:
		return nil, exitf(ExitUsage, "%s declares no workflow", p.Files[0])
	case 1:
		return p.Workflows[0], nil
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
