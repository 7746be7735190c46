package stdlib

import (
	"regexp"
	"sync"
)

// lazyRegexp returns a function that compiles expr on its first call
// (and panics there if it does not compile, as regexp.MustCompile does
// at init): package variables compiled at init cost every smithc process
// their time, including those that never use them.
func lazyRegexp(expr string) func() *regexp.Regexp {
	return sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(expr) })
}
