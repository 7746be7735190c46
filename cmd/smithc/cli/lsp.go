package cli

import (
	"github.com/spf13/cobra"

	"github.com/smithc/smithc/lang/lsp"
	"github.com/smithc/smithc/stdlib"
)

func (a *app) newLSPCmd() *cobra.Command {
	var stdio bool
	cmd := &cobra.Command{
		Use:   "lsp",
		Short: "Run the language server (LSP over stdin and stdout) for editors",
		Long: `Run a Language Server Protocol server on standard input and output, for
editors: diagnostics as you type (the same as check), hover, go to
definition, completion, the outline and formatting (the same as fmt).
See docs/editors.md for VS Code and Neovim.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_ = stdio // stdio is the only transport; the flag is what clients pass
			srv := lsp.NewServer(lsp.Config{Actions: stdlib.Specs()})
			if err := srv.Serve(cmd.Context(), a.stdin, a.stdout); err != nil {
				return exitf(ExitFailed, "lsp: %v", err)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&stdio, "stdio", true, "talk over stdin and stdout (the default and only transport)")
	return cmd
}
