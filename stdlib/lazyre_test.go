package stdlib

import (
	"regexp"
	"testing"
)

// TestLazyPatterns: the patterns compiled on first use compile and match
// what they are for (a mistake in one would otherwise show only when an
// agent fails or a shell context is checked).
func TestLazyPatterns(t *testing.T) {
	for _, c := range []struct {
		re       func() *regexp.Regexp
		match    string
		nonMatch string
	}{
		{authPattern, "Error: 401 Unauthorized", "all good"},
		{ratePattern, "429 Too Many Requests", "all good"},
		{serverPattern, "503 Service Unavailable", "all good"},
		{fenced, "text\n```json\n{}\n```\n", "no fence"},
		{placeholderRE, "12_name", "name_12"},
	} {
		if re := c.re(); !re.MatchString(c.match) || re.MatchString(c.nonMatch) {
			t.Errorf("%s: match %q = %v, %q = %v", re, c.match, re.MatchString(c.match), c.nonMatch, re.MatchString(c.nonMatch))
		}
	}
}
