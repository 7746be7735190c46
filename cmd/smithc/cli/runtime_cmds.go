package cli

import "github.com/spf13/cobra"

// runtimeCommands returns the commands that drive the durable runtime.
func (a *app) runtimeCommands() []*cobra.Command {
	return []*cobra.Command{
		a.newRunCmd(),
		a.newResumeCmd(),
		a.newDecisionCmd(true),
		a.newDecisionCmd(false),
		a.newSignalCmd(),
		a.newCancelCmd(),
		a.newHijackCmd(),
		a.newPauseCmd(),
		a.newRetryCmd(),
		a.newForkCmd(),
		a.newPsCmd(),
		a.newInspectCmd(),
		a.newLogsCmd(),
		a.newWhyCmd(),
		a.newWorkerCmd(),
	}
}
