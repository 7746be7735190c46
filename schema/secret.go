package schema

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// MinSecretLen is the shortest secret a run accepts, in bytes. Hiding a
// shorter one would also hide ordinary text ("ok", "1") in every log line
// and message.
const MinSecretLen = 4

// Redacted is what a secret reads as in log and event text and in error
// messages.
const Redacted = "***"

// Secrets is the set of secret values of a run and the forms in which
// each may appear in text: as it is, JSON-escaped, Go-quoted, URL-encoded,
// base64-encoded, each line of a multi-line value, and the forms the
// caller adds (the shell quoting of the standard library). It redacts log
// and event text and error messages, and finds secrets in values so that
// values holding one are refused rather than rewritten: a stored value is
// either what was validated or nothing.
//
// The zero value is an empty set; a nil *Secrets is an empty set too. It
// is safe for concurrent use.
type Secrets struct {
	mu     sync.RWMutex
	forms  []secretForm // longest first
	ix     *formIndex   // rebuilt by Add; never modified
	seen   map[string]bool
	values map[string]string // raw value -> name
	maxLen int
}

type secretForm struct {
	text string
	name string // the variable's name ("" when the action gave the value)
	how  string // "" for the value as it is, else how it was derived
}

// Leak says where a value holds a secret. Path is the field path
// ("build.token", "input.items[2]"), Name the secret's variable (empty
// when an action gave the value without a name), How the form found
// ("" for the value itself, "base64-encoded", ...). The secret itself is
// never part of it.
type Leak struct {
	Path string
	Name string
	How  string
	Key  bool // the secret is in an object key at Path
}

func (l *Leak) Error() string {
	what := "a secret value"
	if l.Name != "" {
		what = fmt.Sprintf("the value of secret(%q)", l.Name)
	}
	if l.How != "" {
		what += " (" + l.How + ")"
	}
	where := l.Path
	if l.Key {
		where += " has a key that"
	}
	if where == "" {
		return "holds " + what
	}
	return where + " holds " + what
}

// Add adds the secret value named name (the variable of secret("NAME"),
// or "" for a value an action resolved itself) with its derived forms and
// the extra forms given (for example its shell quoting). An empty value is
// ignored: there is nothing to hide. A value shorter than MinSecretLen is
// refused with an error naming the secret.
func (s *Secrets) Add(name, value string, extra ...string) error {
	if value == "" {
		return nil
	}
	if len(value) < MinSecretLen {
		who := "a secret value"
		if name != "" {
			who = fmt.Sprintf("secret(%q)", name)
		}
		return fmt.Errorf("%s is %d byte(s) long; secrets shorter than %d bytes are refused, because hiding them would also hide ordinary text in logs and messages: set %s to the real secret or unset it",
			who, len(value), MinSecretLen, orIt(name))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.seen == nil {
		s.seen, s.values = map[string]bool{}, map[string]string{}
	}
	if _, dup := s.values[value]; !dup || s.values[value] == "" {
		s.values[value] = name
	}
	add := func(text, how string) {
		if len(text) < MinSecretLen || s.seen[text] {
			return
		}
		s.seen[text] = true
		s.forms = append(s.forms, secretForm{text: text, name: name, how: how})
		if len(text) > s.maxLen {
			s.maxLen = len(text)
		}
	}
	for _, f := range deriveForms(value) {
		add(f.text, f.how)
	}
	for _, e := range extra {
		add(e, "quoted for the shell")
	}
	sort.SliceStable(s.forms, func(i, j int) bool { return len(s.forms[i].text) > len(s.forms[j].text) })
	s.ix = newFormIndex(s.forms)
	return nil
}

// formIndex finds the forms of a set in text in one pass: a bitmap of the
// forms' first two bytes rules out almost every position at once.
type formIndex struct {
	forms   []secretForm
	byFirst [256][]int32 // indexes into forms, longest first
	pairs   [1 << 16 / 64]uint64
}

func newFormIndex(forms []secretForm) *formIndex {
	ix := &formIndex{forms: append([]secretForm(nil), forms...)}
	for i, f := range ix.forms {
		ix.byFirst[f.text[0]] = append(ix.byFirst[f.text[0]], int32(i))
		p := uint16(f.text[0])<<8 | uint16(f.text[1])
		ix.pairs[p/64] |= 1 << (p % 64)
	}
	return ix
}

// at returns the longest form that starts at text[i:].
func (ix *formIndex) at(text string, i int) (secretForm, bool) {
	if i+1 >= len(text) {
		return secretForm{}, false
	}
	p := uint16(text[i])<<8 | uint16(text[i+1])
	if ix.pairs[p/64]&(1<<(p%64)) == 0 {
		return secretForm{}, false
	}
	for _, k := range ix.byFirst[text[i]] {
		if f := ix.forms[k]; strings.HasPrefix(text[i:], f.text) {
			return f, true
		}
	}
	return secretForm{}, false
}

func orIt(name string) string {
	if name == "" {
		return "it"
	}
	return name
}

// deriveForms lists the forms a secret may take in text.
func deriveForms(v string) []secretForm {
	out := escapedForms(v)
	for _, enc := range []*base64.Encoding{base64.RawStdEncoding, base64.RawURLEncoding} {
		out = append(out, secretForm{text: enc.EncodeToString([]byte(v)), how: "base64-encoded"})
		// Inside a longer base64 text (user:token in a Basic header) the
		// secret starts 1 or 2 bytes into a 3-byte group: the characters
		// its bytes alone decide are known.
		for k := 1; k <= 2; k++ {
			if mid := base64Middle(enc, v, k); len(mid) >= 8 {
				out = append(out, secretForm{text: mid, how: "base64-encoded"})
			}
		}
	}
	out = append(out, secretForm{text: url.QueryEscape(v), how: "URL-encoded"}, secretForm{text: url.PathEscape(v), how: "URL-encoded"})
	if strings.ContainsAny(v, "\n") {
		for _, line := range strings.Split(v, "\n") {
			line = strings.TrimSuffix(line, "\r")
			if len(line) < MinSecretLen {
				continue
			}
			for _, f := range escapedForms(line) {
				out = append(out, secretForm{text: f.text, how: "a line of it"})
			}
		}
	}
	return out
}

// escapedForms is v as it is, JSON-escaped (with and without HTML
// escaping) and Go-quoted, without the quotes.
func escapedForms(v string) []secretForm {
	out := []secretForm{{text: v}}
	inner := func(q string) string { return q[1 : len(q)-1] }
	out = append(out, secretForm{text: inner(string(appendString(nil, v))), how: "JSON-escaped"})
	if j, err := json.Marshal(v); err == nil {
		out = append(out, secretForm{text: inner(string(j)), how: "JSON-escaped"})
	}
	out = append(out, secretForm{text: inner(strconv.Quote(v)), how: "quoted"}, secretForm{text: inner(strconv.QuoteToASCII(v)), how: "quoted"})
	return out
}

// base64Middle returns the characters of the base64 encoding of v placed
// k bytes into a 3-byte group that depend on v's bytes only.
func base64Middle(enc *base64.Encoding, v string, k int) string {
	buf := make([]byte, k+len(v)+2)
	copy(buf[k:], v)
	e := enc.EncodeToString(buf)
	lo, hi := 8*k, 8*(k+len(v)) // v's bit range
	first, last := -1, -1
	for i := 0; 6*i+6 <= len(buf)*8 && i < len(e); i++ {
		if 6*i >= lo && 6*i+6 <= hi {
			if first < 0 {
				first = i
			}
			last = i
		}
	}
	if first < 0 {
		return ""
	}
	return e[first : last+1]
}

// Empty reports whether the set holds no secret.
func (s *Secrets) Empty() bool {
	if s == nil {
		return true
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.forms) == 0
}

// snapshot returns the index of the forms and the longest length.
func (s *Secrets) snapshot() (*formIndex, int) {
	if s == nil {
		return nil, 0
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.ix, s.maxLen
}

// find returns the leftmost (then longest) form that text contains.
func find(ix *formIndex, text string) (secretForm, bool) {
	if ix == nil {
		return secretForm{}, false
	}
	for i := 0; i+1 < len(text); i++ {
		if f, ok := ix.at(text, i); ok {
			return f, true
		}
	}
	return secretForm{}, false
}

// Redact returns text with every form of every secret replaced by ***
// (leftmost, longest first). Text cut short for a message hides a
// secret's beginning too: MinSecretLen or more bytes of the start of a
// secret right before "..." are replaced. It is for log and event text
// and error messages, never for data.
func (s *Secrets) Redact(text string) string {
	ix, _ := s.snapshot()
	if ix == nil {
		return text
	}
	return redactCut(ix.forms, redactWhole(ix, text))
}

// redactCut replaces the beginning of a secret cut short by "...".
func redactCut(forms []secretForm, text string) string {
	for from := 0; ; {
		p := strings.Index(text[from:], "...")
		if p < 0 {
			return text
		}
		p += from
		from = p + 3
		best := 0
		for _, f := range forms {
			for k := min(len(f.text)-1, p); k >= MinSecretLen && k > best; k-- {
				if text[p-k:p] == f.text[:k] {
					best = k
					break
				}
			}
		}
		if best > 0 {
			text = text[:p-best] + Redacted + text[p:]
			from = p - best + len(Redacted) + 3
		}
	}
}

func redactWhole(ix *formIndex, text string) string {
	var b strings.Builder
	last := 0 // text[last:i] is not written yet
	for i := 0; i+1 < len(text); {
		f, ok := ix.at(text, i)
		if !ok {
			i++
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(text))
		}
		b.WriteString(text[last:i])
		b.WriteString(Redacted)
		i += len(f.text)
		last = i
	}
	if last == 0 {
		return text
	}
	b.WriteString(text[last:])
	return b.String()
}

// Find reports the first secret that text holds, as a Leak without a
// path.
func (s *Secrets) Find(text string) (*Leak, bool) {
	ix, _ := s.snapshot()
	f, ok := find(ix, text)
	if !ok {
		return nil, false
	}
	return &Leak{Name: f.name, How: f.how}, true
}

// FindIn reports the first place where the value v (named path) holds a
// secret: a string or an object key containing one of its forms, or a
// number or bool whose text is a secret. Nil when v holds none.
func (s *Secrets) FindIn(v any, path string) *Leak {
	ix, _ := s.snapshot()
	if ix == nil {
		return nil
	}
	return s.findIn(ix, Canonical(v), path)
}

func (s *Secrets) findIn(ix *formIndex, v any, path string) *Leak {
	switch x := v.(type) {
	case string:
		if f, ok := find(ix, x); ok {
			return &Leak{Path: path, Name: f.name, How: f.how}
		}
	case []any:
		for i, e := range x {
			if l := s.findIn(ix, e, fmt.Sprintf("%s[%d]", path, i)); l != nil {
				return l
			}
		}
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			if f, ok := find(ix, k); ok {
				return &Leak{Path: path, Name: f.name, How: f.how, Key: true}
			}
			if l := s.findIn(ix, x[k], joinPath(path, k)); l != nil {
				return l
			}
		}
	case nil:
	default:
		if name, ok := s.rawValue(Text(x)); ok {
			return &Leak{Path: path, Name: name}
		}
	}
	return nil
}

// rawValue reports whether text is exactly a secret value.
func (s *Secrets) rawValue(text string) (string, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	name, ok := s.values[text]
	return name, ok
}

// RedactValue returns a copy of v with every string and object key
// redacted, and a number or bool whose text is a secret replaced by ***.
// It is for the data of log events, never for outputs.
func (s *Secrets) RedactValue(v any) any {
	if s.Empty() {
		return v
	}
	return s.redactValue(Canonical(v))
}

func (s *Secrets) redactValue(v any) any {
	switch x := v.(type) {
	case string:
		return s.Redact(x)
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = s.redactValue(e)
		}
		return out
	case map[string]any:
		out := make(map[string]any, len(x))
		for k, e := range x {
			out[s.Redact(k)] = s.redactValue(e)
		}
		return out
	case nil:
		return nil
	}
	if _, ok := s.rawValue(Text(v)); ok {
		return Redacted
	}
	return v
}

// RedactJSON redacts the JSON text of log or event data as a value: it
// decodes it, redacts its strings (RedactValue) and encodes it again, so
// that a secret in any form is hidden and the result is still valid JSON
// with its structure, keys and numbers intact. Text that is not JSON is
// redacted as text. Data holding no form of a secret is returned as it is.
func (s *Secrets) RedactJSON(raw []byte) []byte {
	ix, _ := s.snapshot()
	if _, hit := find(ix, string(raw)); !hit {
		return raw
	}
	v, err := DecodeJSON(raw)
	if err != nil {
		return []byte(s.Redact(string(raw)))
	}
	out, err := json.Marshal(s.RedactValue(v))
	if err != nil {
		return []byte(s.Redact(string(raw)))
	}
	return out
}

// HoldBack returns how many bytes at the end of text could be the start
// of a secret that the text following it completes. A stream written to
// a log in pieces keeps those bytes back until more text comes (or the
// stream ends), so that no secret is ever split across two pieces where
// neither holds all of it.
func (s *Secrets) HoldBack(text []byte) int {
	ix, maxLen := s.snapshot()
	if ix == nil {
		return 0
	}
	forms := ix.forms
	n := maxLen - 1
	if n > len(text) {
		n = len(text)
	}
	k := 0
	for j := n; j > 0 && k == 0; j-- {
		tail := text[len(text)-j:]
		for _, f := range forms {
			if len(f.text) > j && f.text[0] == tail[0] && strings.HasPrefix(f.text, string(tail)) {
				k = j
				break
			}
		}
	}
	// The cut must not fall inside a whole secret either: move it to the
	// start of any form that straddles it.
	c := len(text) - k
	for moved := true; moved && c > 0; {
		moved = false
		for _, f := range forms {
			for j := max(0, c-len(f.text)+1); j < c; j++ {
				if j+len(f.text) <= len(text) && string(text[j:j+len(f.text)]) == f.text {
					c, moved = j, true
					break
				}
			}
		}
	}
	return len(text) - c
}
