package stdlib

import "strings"

// SecretForms returns the forms in which the standard actions write a
// secret into text beyond those the runtime always covers (the value, its
// JSON, quoted, URL and base64 forms): the shell quoting of a run
// template (quoteSlot), as a whole word and as the text between its
// quotes, and the single-quote escaping used inside '...'. It is meant
// for runtime.Config.SecretFormsFunc, so that a logged script hides a
// quoted secret too.
func SecretForms(secret string) []string {
	var forms []string
	for _, q := range []string{quoteWord(secret, true), ShellQuote(secret)} {
		forms = append(forms, q)
		for _, mark := range []string{"'", `"`, "$'"} {
			if inner, ok := strings.CutPrefix(q, mark); ok {
				if inner, ok = strings.CutSuffix(inner, mark[len(mark)-1:]); ok {
					forms = append(forms, inner)
				}
			}
		}
	}
	return forms
}
