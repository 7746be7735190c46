package schema_test

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/smithc/smithc/schema"
)

// hostile are secrets of every character class the redactor must hide.
var hostile = []string{
	"<tok>&amp;",
	`quo"te-secret`,
	`back\slash\\`,
	"multi\nline secret\nthird",
	"tab\tsecret",
	"unicodé-秘密-🔑",
	"🔑", // one 4-byte character
	"plain-secret-1234",
}

func secretsOf(t *testing.T, vals ...string) *schema.Secrets {
	t.Helper()
	var s schema.Secrets
	for i, v := range vals {
		if err := s.Add("S"+strconv.Itoa(i), v); err != nil {
			t.Fatal(err)
		}
	}
	return &s
}

// TestRedactEveryForm: each derived form of each secret is hidden in text.
func TestRedactEveryForm(t *testing.T) {
	s := secretsOf(t, hostile...)
	for _, v := range hostile {
		jsonHTML, _ := json.Marshal(v)
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		enc.Encode(v) //nolint:errcheck // a string always encodes
		forms := []string{v, string(jsonHTML), b.String(), strconv.Quote(v), strconv.QuoteToASCII(v),
			url.QueryEscape(v), url.PathEscape(v),
			base64.StdEncoding.EncodeToString([]byte(v)), base64.URLEncoding.EncodeToString([]byte(v))}
		if strings.Contains(v, "\n") {
			forms = append(forms, strings.Split(v, "\n")...)
		}
		for _, f := range forms {
			text := "before " + f + " after"
			got := s.Redact(text)
			if strings.Contains(got, v) || (len(f) >= 4 && strings.Contains(got, strings.Trim(f, `"`))) {
				t.Errorf("secret %q in form %q not redacted: %q", v, f, got)
			}
			if !strings.HasPrefix(got, "before ") || !strings.HasSuffix(got, " after") {
				t.Errorf("surrounding text damaged: %q", got)
			}
		}
	}
}

// TestRedactBase64Inside: a secret inside a longer base64 text (a Basic
// authorization header of user:token) is hidden whatever its alignment.
func TestRedactBase64Inside(t *testing.T) {
	tok := "hunter2-token-value"
	s := secretsOf(t, tok)
	for _, user := range []string{"a", "ab", "abc", "user"} {
		enc := base64.StdEncoding.EncodeToString([]byte(user + ":" + tok))
		if got := s.Redact("Authorization: Basic " + enc); !strings.Contains(got, schema.Redacted) {
			t.Errorf("user %q: %q not redacted", user, got)
		}
	}
}

func TestShortSecretRefused(t *testing.T) {
	var s schema.Secrets
	for _, v := range []string{"k", "ok", "1", `"`, "abc"} {
		err := s.Add("TOKEN", v)
		if err == nil || !strings.Contains(err.Error(), `secret("TOKEN")`) || !strings.Contains(err.Error(), "4 bytes") {
			t.Errorf("Add(%q) = %v, want a refusal naming the secret", v, err)
		}
	}
	if err := s.Add("EMPTY", ""); err != nil || !s.Empty() {
		t.Errorf("an empty secret: %v, empty %v", err, s.Empty())
	}
	if err := s.Add("FOUR", "🔑"); err != nil {
		t.Errorf("a 4-byte secret: %v", err)
	}
}

// TestFindInNamesPath: a value holding a secret is reported with the
// field path, the secret's name and the form, never the value.
func TestFindInNamesPath(t *testing.T) {
	s := secretsOf(t, "s3cr3t-value")
	v := map[string]any{"ok": "fine", "items": []any{"a", map[string]any{"tok": "x-czNjcjN0LXZhbHVl-y"}}}
	l := s.FindIn(v, "build")
	if l == nil || l.Path != "build.items[1].tok" || l.Name != "S0" || l.How != "base64-encoded" {
		t.Fatalf("FindIn = %+v", l)
	}
	if strings.Contains(l.Error(), "s3cr3t") || !strings.Contains(l.Error(), `build.items[1].tok holds the value of secret("S0")`) {
		t.Errorf("message %q", l.Error())
	}
	if l := s.FindIn(map[string]any{"s3cr3t-value": 1}, "o"); l == nil || !l.Key {
		t.Errorf("a secret key: %+v", l)
	}
	if l := s.FindIn(map[string]any{"n": int64(12345), "s": "other"}, "o"); l != nil {
		t.Errorf("false positive %+v", l)
	}
	num := secretsOf(t, "48213")
	if l := num.FindIn(map[string]any{"pin": int64(48213)}, "o"); l == nil || l.Path != "o.pin" {
		t.Errorf("a number equal to a secret: %+v", l)
	}
	if l := num.FindIn(map[string]any{"n": int64(1482130)}, "o"); l != nil {
		t.Errorf("a number containing a numeric secret's digits is data: %+v", l)
	}
}

// TestRedactJSONKeepsStructure: with a secret that looks like a key, a
// number or an enum value, redacting event data keeps valid JSON, keys
// and numbers (the old string replace wrote "coun***" and ***0).
func TestRedactJSONKeepsStructure(t *testing.T) {
	for _, sec := range []string{"count", "1234", "stat", "<tok>&amp;", "line\nbreak"} {
		s := secretsOf(t, sec)
		raw, _ := json.Marshal(map[string]any{"count": 12345, "status": "ok", "text": "x " + sec + " y"})
		out := s.RedactJSON(raw)
		var m map[string]any
		if err := json.Unmarshal(out, &m); err != nil {
			t.Fatalf("secret %q: invalid JSON %s: %v", sec, out, err)
		}
		if sec == "count" {
			continue // a secret that is also a key hides the key in log data
		}
		if m["text"] != "x *** y" || m["count"] != 12345.0 {
			t.Errorf("secret %q: %s", sec, out)
		}
		if strings.Contains(string(out), sec) && sec != "stat" && sec != "1234" {
			t.Errorf("secret %q left in %s", sec, out)
		}
	}
}

// TestHoldBack: a stream cut anywhere never leaves a secret split across
// two pieces that are redacted separately.
func TestHoldBack(t *testing.T) {
	for _, sec := range hostile {
		s := secretsOf(t, sec)
		text := []byte("lead " + sec + " tail " + sec)
		for cut := 1; cut < len(text); cut++ {
			var out strings.Builder
			pending := []byte{}
			for _, piece := range [][]byte{text[:cut], text[cut:]} {
				pending = append(pending, piece...)
				h := s.HoldBack(pending)
				out.WriteString(s.Redact(string(pending[:len(pending)-h])))
				pending = pending[len(pending)-h:]
			}
			out.WriteString(s.Redact(string(pending)))
			if strings.Contains(out.String(), sec) {
				t.Fatalf("secret %q split at %d leaked: %q", sec, cut, out.String())
			}
		}
	}
	s := secretsOf(t, "abcdef")
	if h := s.HoldBack([]byte("hello\n")); h != 0 {
		t.Errorf("plain text held back %d bytes", h)
	}
	if h := s.HoldBack([]byte("x abc")); h != 3 {
		t.Errorf("HoldBack = %d, want 3", h)
	}
	var nilSet *schema.Secrets
	if nilSet.Redact("x") != "x" || nilSet.HoldBack([]byte("x")) != 0 || nilSet.FindIn("x", "") != nil {
		t.Error("a nil set is not empty")
	}
}

// TestRedactCutText: a message that cut a secret short ("...") does not
// show its beginning.
func TestRedactCutText(t *testing.T) {
	sec := "a-rather-long-secret-value-of-sixty-bytes-or-so-0123456789"
	s := secretsOf(t, sec)
	for _, text := range []string{
		"stderr: " + sec[:30] + "...",
		schema.Describe(sec),
		"waiting... then " + sec[:10] + "... done",
	} {
		if got := s.Redact(text); strings.Contains(got, sec[:MinPrefix]) {
			t.Errorf("Redact(%q) = %q", text, got)
		}
	}
	if got := s.Redact("loading... a-r..."); got != "loading... a-r..." {
		t.Errorf("3 bytes before ... redacted: %q", got)
	}
}

const MinPrefix = schema.MinSecretLen

// benchSecrets is a run with eight secrets of every class.
func benchSecrets(b *testing.B) *schema.Secrets {
	var s schema.Secrets
	for i, v := range hostile {
		if err := s.Add("S"+strconv.Itoa(i), v); err != nil {
			b.Fatal(err)
		}
	}
	return &s
}

// BenchmarkRedactLogLine: the cost added to each logged line (1 KiB of
// output without a secret, the usual case, and with one).
func BenchmarkRedactLogLine(b *testing.B) {
	s := benchSecrets(b)
	clean := strings.Repeat("compiling package github.com/x/y ok\n", 28)
	dirty := clean[:500] + "plain-secret-1234" + clean[500:]
	b.Run("clean", func(b *testing.B) {
		b.SetBytes(int64(len(clean)))
		for b.Loop() {
			s.Redact(clean)
		}
	})
	b.Run("with-secret", func(b *testing.B) {
		b.SetBytes(int64(len(dirty)))
		for b.Loop() {
			s.Redact(dirty)
		}
	})
}

// BenchmarkFindInOutput: the check every step output goes through (a
// shell step's {stdout, stderr, exit_code} with 4 KiB of stdout).
func BenchmarkFindInOutput(b *testing.B) {
	s := benchSecrets(b)
	out := map[string]any{"stdout": strings.Repeat("line of output 0123456789\n", 160), "stderr": "", "exit_code": int64(0)}
	for b.Loop() {
		if s.FindIn(out, "step") != nil {
			b.Fatal("false positive")
		}
	}
}
