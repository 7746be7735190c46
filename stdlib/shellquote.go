package stdlib

import (
	"fmt"
	"strings"
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

// shellWords turns an interpolated value into shell words for an unquoted
// position: a scalar is one quoted word; a list is one quoted word per
// element (none for an empty list). Null, objects and nested lists are
// errors, as is a NUL byte.
func shellWords(v any) (string, error) {
	if l, ok := v.([]any); ok {
		words := make([]string, 0, len(l))
		for i, e := range l {
			if _, nested := e.([]any); nested {
				return "", fmt.Errorf("element %d of the list is itself a list; only lists of strings and numbers expand to words", i)
			}
			w, err := shellScalar(e)
			if err != nil {
				return "", fmt.Errorf("element %d of the list: %w", i, err)
			}
			words = append(words, ShellQuote(w))
		}
		return strings.Join(words, " "), nil
	}
	s, err := shellScalar(v)
	if err != nil {
		return "", err
	}
	return ShellQuote(s), nil
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

// quoteFor returns the quote function for an interpolation in the given
// shell context: in an unquoted position the value becomes quoted words;
// inside '...' its quotes are escaped so it stays inside the quotes;
// inside "..." the double quotes are closed around a single-quoted word,
// so the shell joins the three into one word with the value literal.
func quoteFor(ctx shellContext) func(v any) (string, error) {
	return func(v any) (string, error) {
		if ctx == ctxWord {
			return shellWords(v)
		}
		if _, ok := v.([]any); ok {
			return "", fmt.Errorf("a list cannot be interpolated inside quotes; remove the quotes to pass one word per element, or use join(list, \" \")")
		}
		s, err := shellScalar(v)
		if err != nil {
			return "", err
		}
		if ctx == ctxSingle {
			return strings.ReplaceAll(s, "'", `'\''`), nil
		}
		return `"` + ShellQuote(s) + `"`, nil
	}
}
