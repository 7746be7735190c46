package schema_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/schema"
)

// TestTextPinned pins how every kind of value prints in a template (the
// runtime's and the standard library's tests check that string, run,
// prompt and header templates all print through Text).
func TestTextPinned(t *testing.T) {
	for _, c := range TextCases {
		if got := schema.Text(c.V); got != c.Want {
			t.Errorf("Text(%#v) = %q, want %q", c.V, got, c.Want)
		}
	}
}

// TextCases are the pinned formats; docs/language.md shows some of them.
var TextCases = []struct {
	V    any
	Want string
}{
	{nil, ""},
	{"a b", "a b"},
	{true, "true"},
	{int64(3), "3"},
	{int(-7), "-7"},
	{3.0, "3"},
	{2.5, "2.5"},
	{0.000001, "0.000001"},
	{1e-7, "1e-7"},
	{1e21, "1e+21"},
	{123456789.0, "123456789"},
	{float32(0.5), "0.5"},
	{json.Number("12"), "12"},
	{[]any{int64(1), 0.000001, "x<y&z"}, `[1,0.000001,"x<y&z"]`},
	{map[string]any{"b": int64(1), "a": "q\"\n"}, `{"a":"q\"\n","b":1}`},
	{[]string{"a", "b"}, `["a","b"]`},
	{map[string]string{"k": "v"}, `{"k":"v"}`},
	{[]int{1, 2}, `[1,2]`},
	{math.Inf(1), "+Inf"},
	{math.NaN(), "NaN"},
}

// TestTextNumbersAsJSON: a number prints as encoding/json writes it, so
// that it reads the same alone and inside a list.
func TestTextNumbersAsJSON(t *testing.T) {
	for _, f := range []float64{0, -0.5, 1e-6, 9.99e-7, 1e20, 1e21, 123.456, 1.0 / 3, -2e-9, 5e300, math.MaxInt64} {
		j, err := json.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		if got := schema.Text(f); got != string(j) {
			t.Errorf("Text(%v) = %s, json %s", f, got, j)
		}
		if got := schema.Text([]any{f}); got != "["+string(j)+"]" {
			t.Errorf("Text([%v]) = %s", f, got)
		}
	}
}

// TestTextStringsAsJSON: a string inside a list or object is encoded as
// encoding/json does, except that <, > and & are not escaped.
func TestTextStringsAsJSON(t *testing.T) {
	for _, s := range []string{"plain", "tab\there", "nl\n", `q"\`, "\x01\x1f", "é🔑", "\u2028\u2029", "bad\xffutf8", "<a href='x'>&</a>"} {
		var b strings.Builder
		enc := json.NewEncoder(&b)
		enc.SetEscapeHTML(false)
		if err := enc.Encode([]any{s}); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(b.String(), "\n")
		if got := schema.Text([]any{s}); got != want {
			t.Errorf("Text([%q]) = %s, want %s", s, got, want)
		}
	}
}

func TestDecodeJSON(t *testing.T) {
	v, err := schema.DecodeJSON([]byte(` {"i": 3, "f": 2.5, "big": 12345678901234567890, "l": [1, 1.0]} `))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"i": int64(3), "f": 2.5, "big": 1.2345678901234567e19, "l": []any{int64(1), 1.0}}
	if diff := cmp.Diff(want, v); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{} {}`, `1e400`, `[`, ``} {
		if _, err := schema.DecodeJSON([]byte(bad)); err == nil {
			t.Errorf("DecodeJSON(%q) accepted", bad)
		}
	}
}

func TestCanonical(t *testing.T) {
	type myInt int16
	in := map[string]any{"a": int(1), "b": []string{"x"}, "c": map[string]int{"k": 2}, "d": float32(0.25),
		"e": uint8(7), "f": myInt(-3), "g": json.Number("4"), "h": []any{int32(5)}, "n": []any(nil),
		"i": []int(nil), "j": []float64{1.5}, "k": []any{[]int{1}}}
	want := map[string]any{"a": int64(1), "b": []any{"x"}, "c": map[string]any{"k": int64(2)}, "d": 0.25,
		"e": int64(7), "f": int64(-3), "g": int64(4), "h": []any{int64(5)}, "n": []any{},
		"i": []any{}, "j": []any{1.5}, "k": []any{[]any{int64(1)}}}
	if diff := cmp.Diff(want, schema.Canonical(in)); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
	if in["a"] != int(1) {
		t.Error("Canonical modified its argument")
	}
}

func TestDescribeCanonical(t *testing.T) {
	for v, want := range map[any]string{int(3): "int 3", float32(0.5): "float 0.5", 0.000001: "float 0.000001"} {
		if got := schema.Describe(v); got != want {
			t.Errorf("Describe(%v) = %q, want %q", v, got, want)
		}
	}
	if got := schema.Describe([]string{"a"}); got != "list" {
		t.Errorf("Describe([]string) = %q", got)
	}
}

// TestDecodeJSONErrors: DecodeJSON's errors say where and what in the
// reader's terms, never encoding/json's own wording or Go types, and
// still unwrap to encoding/json's errors.
func TestDecodeJSONErrors(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{``, "there is no JSON value (the text is empty)"},
		{`{"a": `, "the JSON ends early (an unclosed bracket, brace or string?)"},
		{`{"a" 1}`, "invalid JSON at byte 6: invalid character '1' after object key"},
		{`[1] [2]`, "text after the JSON value, which ends at byte 3: want exactly one value"},
		{`1e999`, "number 1e999 is out of range"},
		{strings.Repeat("[", 10001) + strings.Repeat("]", 10001), "exceeded max depth"},
	} {
		_, err := schema.DecodeJSON([]byte(c.in))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("DecodeJSON(%.20q) = %v, want %q", c.in, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "json:") {
			t.Errorf("DecodeJSON(%.20q): %q names encoding/json", c.in, err)
		}
	}
	var se *json.SyntaxError
	if _, err := schema.DecodeJSON([]byte(`{"a" 1}`)); !errors.As(err, &se) || se.Offset != 6 {
		t.Errorf("the syntax error does not unwrap to encoding/json's: %v", err)
	}
	type T struct{ N int }
	err := json.Unmarshal([]byte(`{"N": "x"}`), new(T))
	if got, want := schema.JSONProblem(err), `field N must be a number, not a string (at byte 9)`; got != want {
		t.Errorf("JSONProblem = %q, want %q", got, want)
	}
}

// TestEncodeJSONAsMarshal: EncodeJSON writes what encoding/json's
// Marshal writes, but for <, > and &, which it leaves as they are, and
// decodes back to the same value.
func TestEncodeJSONAsMarshal(t *testing.T) {
	values := []any{
		nil, true, false, int64(0), int64(-42), int64(math.MaxInt64), 1.5, math.Copysign(0, -1), 1e-7, 1e20, 1e21, 123456789.125, 5e-324, math.MaxFloat64, -1e-6, 0.1,
		"", "plain", "quote \" backslash \\ tab \t newline \n nul \x00 bell \x07", "ab\xffcd", "\u2028\u2029", "é ✓ 𝄞",
		"<a href='x'>&amp;</a>",
		[]any{}, []any{int64(1), "two", []any{nil}}, map[string]any{},
		map[string]any{"b": int64(2), "a": map[string]any{"z": "<", "y": []any{1.25, false}}, "": "empty key", "é": "x"},
		7,                              // an int: encoded by Marshal
		json.RawMessage(`{"raw":[1]}`), // kept as it is, as Marshal keeps it
		[]string{"typed", "slice"},
		struct {
			A int `json:"a"`
		}{3},
	}
	for _, v := range values {
		got, err := schema.EncodeJSON(v)
		if err != nil {
			t.Errorf("EncodeJSON(%#v): %v", v, err)
			continue
		}
		want, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		unescaped := strings.NewReplacer(`\u003c`, "<", `\u003e`, ">", `\u0026`, "&").Replace(string(want))
		if string(got) != unescaped {
			t.Errorf("EncodeJSON(%#v) = %s, want %s", v, got, unescaped)
		}
		if !json.Valid(got) {
			t.Errorf("EncodeJSON(%#v) = %s: not valid JSON", v, got)
		}
		a, errA := schema.DecodeJSON(got)
		b, errB := schema.DecodeJSON(want)
		if errA != nil || errB != nil {
			t.Fatalf("decode: %v, %v", errA, errB)
		}
		if diff := cmp.Diff(b, a); diff != "" {
			t.Errorf("EncodeJSON(%#v) decodes otherwise than Marshal's encoding (-marshal +encode):\n%s", v, diff)
		}
	}
}

// TestEncodeJSONRefuses: what JSON cannot hold is an error, said without
// encoding/json's Go terms, as Marshal refuses it.
func TestEncodeJSONRefuses(t *testing.T) {
	for _, c := range []struct {
		v    any
		want string
	}{
		{math.NaN(), "NaN is not a number JSON can hold"},
		{map[string]any{"x": []any{math.Inf(1)}}, "+Inf is not a number JSON can hold"},
		{map[string]any{"f": float32(math.Inf(-1))}, "-Inf is not a value JSON can hold"},
	} {
		_, err := schema.EncodeJSON(c.v)
		if err == nil || err.Error() != c.want {
			t.Errorf("EncodeJSON(%v) = %v, want %q", c.v, err, c.want)
		}
		if _, err := json.Marshal(c.v); err == nil {
			t.Errorf("json.Marshal(%v) encodes it: EncodeJSON should too", c.v)
		}
	}
}

// TestEncodeJSONOneBuffer: a large string is encoded into one buffer of
// its encoded size (json.Marshal doubles a pooled buffer up to 16 MB for
// a 10 MB value and keeps it for later calls).
func TestEncodeJSONOneBuffer(t *testing.T) {
	v := map[string]any{"data": strings.Repeat("x", 1<<20)}
	var b []byte
	allocs := testing.AllocsPerRun(5, func() {
		var err error
		if b, err = schema.EncodeJSON(v); err != nil {
			t.Fatal(err)
		}
	})
	if len(b) != 1<<20+len(`{"data":""}`) {
		t.Fatalf("len %d", len(b))
	}
	if cap(b) > len(b)+16 {
		t.Errorf("a %d-byte encoding in a buffer of %d bytes: want one of about its size", len(b), cap(b))
	}
	if allocs > 2 { // the buffer and the sorted keys
		t.Errorf("%v allocations per encoding, want at most 2", allocs)
	}
}

// TestEncodeJSONIntegersExact: an integer's encoding fills its buffer
// exactly (a step's output is most often one).
func TestEncodeJSONIntegersExact(t *testing.T) {
	for _, n := range []int64{0, 7, -7, 10, -10, 99, 100, 123456789, math.MaxInt64, math.MinInt64} {
		b, err := schema.EncodeJSON(n)
		if err != nil {
			t.Fatal(err)
		}
		if cap(b) != len(b) {
			t.Errorf("EncodeJSON(%d) = %s in a buffer of %d bytes, want %d", n, b, cap(b), len(b))
		}
	}
}

// roundTripCases are values whose RoundTrip is computed and values
// where it falls back to encoding and decoding.
var roundTripCases = []any{
	nil, true, int64(-3), "plain", "é ✓", 2.0, math.Copysign(0, -1), 2.5, 1e18, 1e19, 1e21, 1e-7, 123456789.125,
	-9.223372036854775808e18, 9.223372036854775807e18,
	[]any{1.0, "x", []any{3.0, nil}}, map[string]any{"a": 4.0, "b": map[string]any{"c": []any{0.5}}},
	"ab\xffcd", map[string]any{"k\xff": int64(1), "k\xfe": int64(2)}, []any{"\xed\xa0\x80"},
	7, json.Number("12"), json.RawMessage(`{"raw":2.0}`), []string{"typed"},
}

// TestRoundTripIsDecodeOfEncode: RoundTrip(v) is DecodeJSON(EncodeJSON(v)),
// the value a resume reads from the stored encoding.
func TestRoundTripIsDecodeOfEncode(t *testing.T) {
	for _, v := range roundTripCases {
		assertRoundTrip(t, v)
	}
}

func assertRoundTrip(t *testing.T, v any) {
	t.Helper()
	b, err := schema.EncodeJSON(v)
	if err != nil {
		if _, rerr := schema.RoundTrip(v); rerr == nil {
			t.Errorf("RoundTrip(%#v) succeeds where EncodeJSON fails: %v", v, err)
		}
		return
	}
	want, err := schema.DecodeJSON(b)
	if err != nil {
		t.Fatalf("DecodeJSON(%s): %v", b, err)
	}
	got, err := schema.RoundTrip(v)
	if err != nil {
		t.Fatalf("RoundTrip(%#v): %v", v, err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("RoundTrip(%#v) (-decode of encode +roundtrip):\n%s", v, diff)
	}
}

// FuzzRoundTrip: for any strings and floats, in a list and a map,
// RoundTrip is the decoding of the encoding.
func FuzzRoundTrip(f *testing.F) {
	f.Add("ab\xffcd", uint64(0x4000000000000000), int64(5))
	f.Add("", math.Float64bits(1e21), int64(-1))
	f.Add("\u2028", math.Float64bits(math.Copysign(0, -1)), int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, s string, bits uint64, n int64) {
		fl := math.Float64frombits(bits)
		assertRoundTrip(t, fl)
		assertRoundTrip(t, s)
		assertRoundTrip(t, []any{s, fl, n, []any{fl}})
		assertRoundTrip(t, map[string]any{s: fl, "n": n, "l": []any{s}})
	})
}
