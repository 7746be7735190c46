package cli

import (
	"io"
	"os"

	"golang.org/x/term"
)

// isTerminal reports whether f is a terminal (not merely a character
// device such as /dev/null).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	if !ok {
		return false
	}
	return term.IsTerminal(int(file.Fd()))
}

// terminalSize returns the width and height of the terminal behind w,
// or 100×40 when it cannot tell.
func terminalSize(w io.Writer) (width, height int) {
	width, height = 100, 40
	f, ok := w.(*os.File)
	if !ok {
		return width, height
	}
	cols, rows, err := term.GetSize(int(f.Fd()))
	if err != nil || cols <= 0 || rows <= 0 {
		return width, height
	}
	return cols, rows
}

// dumbTerminal reports whether $TERM says the terminal cannot move its
// cursor (TERM=dumb): progress is then plain lines, as off a terminal.
func dumbTerminal() bool { return os.Getenv("TERM") == "dumb" }

// colorWanted reports whether the live view may use colour: not when
// $NO_COLOR is set to anything but the empty string (no-color.org) or
// the terminal is dumb.
func colorWanted() bool { return os.Getenv("NO_COLOR") == "" && !dumbTerminal() }
