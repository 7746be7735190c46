package runtime

import "strings"

// packagePrefixes are the prefixes that the runtime's and the stores'
// errors carry for their developers ("runtime: run x: ...").
var packagePrefixes = []string{"runtime: ", "sqlitestore: ", "pgstore: ", "store: "}

// UserText is an error message as a person reads it: without the package
// prefixes that wrapped errors carry, at its start or after a ": " (not
// inside a word). The CLI and serve print every error through it.
func UserText(msg string) string {
	for _, p := range packagePrefixes {
		msg = strings.TrimPrefix(msg, p)
		msg = strings.ReplaceAll(msg, ": "+p, ": ")
	}
	return msg
}
