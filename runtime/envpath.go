package runtime

import "strings"

// setPath binds a possibly dotted name in an expression environment:
// "read" sets env["read"]; "api.summarize" (a node of a mounted fragment
// read from outside it) sets env["api"]["summarize"], creating the
// intermediate objects.
func setPath(env map[string]any, name string, v any) {
	parts := strings.Split(name, ".")
	m := env
	for _, k := range parts[:len(parts)-1] {
		next, ok := m[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[k] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}
