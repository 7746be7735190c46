package stdlib

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"mvdan.cc/sh/v3/syntax"

	"github.com/smithc/smithc/schema"
)

// ShellQuote returns s as one POSIX shell word: s itself when it consists
// only of characters no shell treats specially, otherwise s in single
// quotes, each single quote in s written as quote, backslash, quote,
// quote (close, escaped quote, reopen). The shell reads the result back as
// exactly s, whatever s holds (quotes, $(...), backticks, newlines,
// globs, leading dashes stay literal; a leading dash still looks like an
// option to the program, as with any argument).
func ShellQuote(s string) string {
	if s != "" && isShellSafe(s) {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// isShellSafe reports whether s needs no quoting: ASCII letters, digits
// and a few punctuation marks that are literal in every position.
func isShellSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '_' || c == '-' || c == '.' || c == '/' || c == ',' || c == ':' || c == '@' || c == '%' || c == '+':
		default:
			return false
		}
	}
	return true
}

// quoteWord returns s as one shell word: mvdan.cc/sh's quoting for POSIX
// sh, or ShellQuote where that refuses a valid value (it has no escape for
// a newline or a control character, which single quotes carry as they
// are). With forced, the word is always quoted, never bare: glued to
// other text, a bare word could join a tilde (~root), a brace expansion
// ({a,b,c}) or a file descriptor (5>file).
func quoteWord(s string, forced bool) string {
	q, err := syntax.Quote(s, syntax.LangPOSIX)
	if err != nil {
		q = ShellQuote(s)
	}
	if q == s && (forced || reservedWords[s]) {
		return "'" + s + "'"
	}
	return q
}

// reservedWords are the words POSIX sh and bash read as keywords in
// command position; syntax.Quote leaves "elif" bare.
var reservedWords = map[string]bool{
	"!": true, "{": true, "}": true, "[[": true, "]]": true, "case": true, "coproc": true, "do": true,
	"done": true, "elif": true, "else": true, "esac": true, "fi": true, "for": true, "function": true,
	"if": true, "in": true, "select": true, "then": true, "time": true, "until": true, "while": true,
}

// quoteSlot writes an interpolated value for the slot planShell decided:
// in an unquoted position quoted words (a list one per element, only where
// a list may stand); inside '...' the value with its quotes escaped;
// inside "..." a quoted word between closed double quotes; in arithmetic
// and arithmetic tests a decimal integer only.
func quoteSlot(slot shellSlot, v any) (string, error) {
	if slot.kind == slotArith || slot.kind == slotTestInt {
		n, err := intValue(v)
		if err != nil {
			return "", fmt.Errorf("%s, %s: %w", "only an integer can stand here", intPlace(slot.kind), err)
		}
		s := strconv.FormatInt(n, 10)
		if n < 0 && slot.paren {
			s = "(" + s + ")" // 1-${n} must not read as 1--5
		}
		return s, nil
	}
	if l, ok := v.([]any); ok {
		if slot.kind != slotWord {
			return "", fmt.Errorf("a list cannot be interpolated inside quotes; remove the quotes to pass one word per element, or use join(list, \" \")")
		}
		if !slot.list {
			return "", fmt.Errorf("a list must stand as whole words (a separate argument of a command, an item of for ... in, or an array element): an empty list would change how the script parses here; use join(list, \" \") for one word")
		}
		words := make([]string, 0, len(l))
		for i, e := range l {
			if _, nested := e.([]any); nested {
				return "", fmt.Errorf("element %d of the list is itself a list; only lists of strings and numbers expand to words", i)
			}
			w, err := shellScalar(e)
			if err != nil {
				return "", fmt.Errorf("element %d of the list: %w", i, err)
			}
			words = append(words, quoteWord(w, !slot.bare))
		}
		return strings.Join(words, " "), nil
	}
	s, err := shellScalar(v)
	if err != nil {
		return "", err
	}
	switch slot.kind {
	case slotSingle:
		return strings.ReplaceAll(s, "'", `'\''`), nil
	case slotDouble:
		return `"` + quoteWord(s, true) + `"`, nil
	}
	return quoteWord(s, !slot.bare), nil
}

// intValue returns v as an integer: an int, or a number without a
// fraction that fits in 64 bits.
func intValue(v any) (int64, error) {
	switch x := schema.Canonical(v).(type) {
	case int64:
		return x, nil
	case float64:
		if x == math.Trunc(x) && x >= -(1<<63) && x < 1<<63 {
			return int64(x), nil
		}
		return 0, fmt.Errorf("the value %v is not an integer", x)
	}
	return 0, fmt.Errorf("the value is %s, not an int", schema.Describe(v))
}

// shellScalar formats one interpolated value as the text of a word.
func shellScalar(v any) (string, error) {
	switch v.(type) {
	case nil:
		// A null (an optional value that is absent) is an empty word, as
		// templates render null everywhere else; the checker lets
		// optional values be interpolated.
		return "", nil
	case map[string]any:
		return "", fmt.Errorf("the value is an object; interpolate a field of it, or toJSON(...) it")
	}
	s, err := scalarString(v)
	if err != nil {
		return "", err
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return "", fmt.Errorf("the value contains a NUL byte at offset %d, which no shell argument can carry", i)
	}
	return s, nil
}
