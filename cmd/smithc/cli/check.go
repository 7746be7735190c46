package cli

import (
	"context"
	"fmt"

	"github.com/smithc/smithc/compiler"

	"github.com/spf13/cobra"
)

func (a *app) newCheckCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "check FILE...",
		Short: "Parse and check .smw files, reporting every problem",
		Long: `Parse and check .smw files and their imports, printing every problem as
file:line:col: error: message, with the source line, a caret and a hint.
Exit status: 0 when clean, 1 when there are errors, 2 on usage errors.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return exitf(ExitUsage, "--format must be text or json, not %q", format)
			}
			failed := false
			type fileResult struct {
				File        string     `json:"file"`
				OK          bool       `json:"ok"`
				Diagnostics []jsonDiag `json:"diagnostics"`
			}
			var results []fileResult
			for _, file := range args {
				res, err := buildOrCancel(cmd.Context(), file)
				if err != nil {
					return err
				}
				ok := !res.Diagnostics.HasErrors()
				failed = failed || !ok
				if format == "json" {
					results = append(results, fileResult{File: file, OK: ok, Diagnostics: toJSONDiags(res.Diagnostics)})
					continue
				}
				if len(res.Diagnostics) > 0 {
					printDiags(a.stderr, res)
				}
				if ok {
					fmt.Fprintf(a.stdout, "%s: ok\n", file)
				}
			}
			if format == "json" {
				if err := writeJSON(a.stdout, results); err != nil {
					return err
				}
			}
			if failed {
				return &exitError{code: ExitFailed}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

// buildOrCancel builds file, unless ctx (SIGINT, SIGTERM) is cancelled
// first: check stops at once with ExitCancelled rather than finish a
// long check and exit 0 after the user asked it to stop.
func buildOrCancel(ctx context.Context, file string) (*compiler.Result, error) {
	if ctx == nil {
		return build(file), nil
	}
	done := make(chan *compiler.Result, 1)
	go func() { done <- build(file) }()
	select {
	case res := <-done:
		return res, nil
	case <-ctx.Done():
		return nil, exitf(ExitCancelled, "check of %s interrupted", file)
	}
}
