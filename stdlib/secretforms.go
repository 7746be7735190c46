package stdlib

import "strings"

// SecretForms returns the forms in which the standard actions write a
// secret into text beyond those the runtime always covers (the value, its
// JSON, quoted, URL and base64 forms): the shell quoting of a run
// template, as a whole word and as the text between single quotes (the
// form inside '...' and "..." contexts). It is meant for
// runtime.Config.SecretFormsFunc, so that a logged script hides a quoted
// secret too.
func SecretForms(secret string) []string {
	q := ShellQuote(secret)
	forms := []string{q}
	if inner, ok := strings.CutPrefix(q, "'"); ok {
		if inner, ok = strings.CutSuffix(inner, "'"); ok {
			forms = append(forms, inner)
		}
	}
	return forms
}
