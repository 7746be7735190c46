package cli

import (
	"io"
	"os"

	"golang.org/x/sys/unix"
)

// isTerminal reports whether f is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(file.Fd()), unix.TCGETS)
	return err == nil
}

// terminalSize returns the width and height of the terminal behind w,
// or 100×40 when it cannot tell.
func terminalSize(w io.Writer) (width, height int) {
	width, height = 100, 40
	f, ok := w.(*os.File)
	if !ok {
		return width, height
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil || ws.Col == 0 || ws.Row == 0 {
		return width, height
	}
	return int(ws.Col), int(ws.Row)
}
