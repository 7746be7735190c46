package cli

import "github.com/spf13/cobra"

// runtimeCommands returns the commands that drive the durable runtime.
func (a *app) runtimeCommands() []*cobra.Command {
	return nil
}
