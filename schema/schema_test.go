package schema_test

import (
	"encoding/json"
	"math"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/smithc/smithc/schema"
)

var analysis = &schema.Type{Kind: schema.Object, Name: "Analysis", Fields: []*schema.Field{
	{Name: "summary", Type: schema.StringType},
	{Name: "risk", Type: schema.EnumOf("low", "medium", "high")},
	{Name: "files", Type: schema.ListOf(schema.StringType)},
	{Name: "score", Type: schema.FloatType, Optional: true},
	{Name: "max", Type: schema.IntType, HasDefault: true, Default: int64(20)},
}}

func decode(t *testing.T, s string) any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatal(err)
	}
	return v
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want any
		err  string
	}{
		{name: "ok with default and optional absent", in: `{"summary":"s","risk":"low","files":["a"]}`,
			want: map[string]any{"summary": "s", "risk": "low", "files": []any{"a"}, "max": int64(20)}},
		{name: "int widens to float", in: `{"summary":"s","risk":"high","files":[],"score":3,"max":5}`,
			want: map[string]any{"summary": "s", "risk": "high", "files": []any{}, "score": float64(3), "max": int64(5)}},
		{name: "extra fields dropped", in: `{"summary":"s","risk":"low","files":[],"other":1}`,
			want: map[string]any{"summary": "s", "risk": "low", "files": []any{}, "max": int64(20)}},
		{name: "enum value", in: `{"summary":"s","risk":"severe","files":[]}`,
			err: `analyze.risk: "severe" is not one of "low" | "medium" | "high"`},
		{name: "missing field", in: `{"risk":"low","files":[]}`, err: `analyze.summary: missing required field of type string`},
		{name: "list element", in: `{"summary":"s","risk":"low","files":["a", 2]}`, err: `analyze.files[1]: expected string, got int 2`},
		{name: "float is not int", in: `{"summary":"s","risk":"low","files":[],"max":2.5}`, err: `analyze.max: expected int, got float 2.5`},
		{name: "null required", in: `{"summary":null,"risk":"low","files":[]}`, err: `analyze.summary: is null, but the field is required`},
		{name: "not an object", in: `"text"`, err: `analyze: expected Analysis, got string "text"`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := schema.Normalize(analysis, decode(t, c.in), "analyze")
			if c.err != "" {
				if err == nil || !strings.Contains(err.Error(), c.err) {
					t.Fatalf("error = %v, want it to contain %q", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// TestNonFiniteRefused: NaN and the infinities (which expressions make,
// 0.0 / 0.0) are refused wherever a value is normalised, in a float and
// anywhere inside an any, with the field path: JSON cannot hold them, so
// they could not be stored.
func TestNonFiniteRefused(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	for _, c := range []struct {
		typ  *schema.Type
		v    any
		want string
	}{
		{schema.FloatType, nan, "s: NaN is not a number JSON can hold"},
		{schema.FloatType, -inf, "s: -Inf is not a number JSON can hold"},
		{schema.ObjectOf(&schema.Field{Name: "v", Type: schema.FloatType}), map[string]any{"v": inf}, "s.v: +Inf is not"},
		{schema.AnyType, map[string]any{"a": []any{1.5, nan}}, "s.a[1]: NaN is not"},
		{schema.ListOf(schema.AnyType), []any{"x", inf}, "s[1]: +Inf is not"},
		{schema.IntType, nan, "s: expected int, got float NaN"},
	} {
		if got, err := schema.Normalize(c.typ, c.v, "s"); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Normalize(%s, %v) = %v, %v; want an error %q", c.typ, c.v, got, err, c.want)
		}
	}
	if got, err := schema.Normalize(schema.AnyType, map[string]any{"a": []any{1.5, int64(2)}}, "s"); err != nil {
		t.Errorf("finite any: %v, %v", got, err)
	}
}

func TestAnyFieldMayBeNull(t *testing.T) {
	typ := schema.ObjectOf(&schema.Field{Name: "json", Type: schema.AnyType})
	got, err := schema.Normalize(typ, map[string]any{"json": nil}, "fetch")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"json": nil}, got); diff != "" {
		t.Error(diff)
	}
}

func TestCoerce(t *testing.T) {
	cases := []struct {
		t    *schema.Type
		in   string
		want any
		err  string
	}{
		{schema.IntType, "3", int64(3), ""},
		{schema.IntType, "3.5", nil, `"3.5" is not an int`},
		{schema.FloatType, "2.5", 2.5, ""},
		{schema.FloatType, ".5", 0.5, ""},
		{schema.FloatType, "NaN", nil, `"NaN" is not a float`},
		{schema.FloatType, "-Inf", nil, `"-Inf" is not a float`},
		{schema.FloatType, "1_000", nil, `"1_000" is not a float`},
		{schema.IntType, "1_000", nil, `"1_000" is not an int`},
		{schema.BoolType, "true", true, ""},
		{schema.BoolType, "yes", nil, "not a bool"},
		{schema.StringType, "42", "42", ""},
		{schema.EnumOf("a", "b"), "c", nil, `"c" is not one of "a" | "b"`},
		{schema.ListOf(schema.IntType), "[1,2]", []any{int64(1), int64(2)}, ""},
		{schema.ListOf(schema.IntType), "1,2", nil, "not valid JSON"},
		{schema.AnyType, "plain words", "plain words", ""},
	}
	for _, c := range cases {
		got, err := schema.Coerce(c.t, c.in, "input.x")
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("Coerce(%s, %q) error = %v, want %q", c.t, c.in, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("Coerce(%s, %q): %v", c.t, c.in, err)
			continue
		}
		if diff := cmp.Diff(c.want, got); diff != "" {
			t.Errorf("Coerce(%s, %q) (-want +got):\n%s", c.t, c.in, diff)
		}
	}
}

func TestAssignableTo(t *testing.T) {
	obj := func(fs ...*schema.Field) *schema.Type { return schema.ObjectOf(fs...) }
	cases := []struct {
		a, b *schema.Type
		want bool
	}{
		{schema.IntType, schema.FloatType, true},
		{schema.FloatType, schema.IntType, false},
		{schema.EnumOf("a"), schema.StringType, true},
		{schema.StringType, schema.EnumOf("a"), false},
		{schema.EnumOf("a"), schema.EnumOf("a", "b"), true},
		{schema.EnumOf("a", "c"), schema.EnumOf("a", "b"), false},
		{schema.ListOf(schema.IntType), schema.ListOf(schema.FloatType), true},
		{schema.AnyType, schema.IntType, true},
		{obj(&schema.Field{Name: "x", Type: schema.IntType}, &schema.Field{Name: "y", Type: schema.IntType}),
			obj(&schema.Field{Name: "x", Type: schema.FloatType}), true},
		{obj(), obj(&schema.Field{Name: "x", Type: schema.IntType}), false},
		{obj(), obj(&schema.Field{Name: "x", Type: schema.IntType, Optional: true}), true},
		{obj(&schema.Field{Name: "x", Type: schema.IntType, Optional: true}), obj(&schema.Field{Name: "x", Type: schema.IntType}), false},
	}
	for _, c := range cases {
		if got := c.a.AssignableTo(c.b); got != c.want {
			t.Errorf("%s assignable to %s = %v, want %v", c.a, c.b, got, c.want)
		}
	}
}

func TestString(t *testing.T) {
	if got, want := analysis.String(), "Analysis"; got != want {
		t.Errorf("String = %q, want %q", got, want)
	}
	want := `{ summary: string, risk: "low" | "medium" | "high", files: [string], score?: float, max: int }`
	if got := analysis.Structure(); got != want {
		t.Errorf("Structure = %q, want %q", got, want)
	}
}

func TestJSONSchema(t *testing.T) {
	got := schema.JSONSchema(analysis)
	b, _ := json.Marshal(got)
	want := `{"additionalProperties":false,"properties":{"files":{"items":{"type":"string"},"type":"array"},"max":{"type":"integer"},"risk":{"enum":["low","medium","high"],"type":"string"},"score":{"type":"number"},"summary":{"type":"string"}},"required":["files","risk","summary"],"type":"object"}`
	if string(b) != want {
		t.Errorf("JSONSchema =\n%s\nwant\n%s", b, want)
	}
}

func TestKindJSON(t *testing.T) {
	b, err := json.Marshal(schema.ListOf(schema.IntType))
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"kind":"list","elem":{"kind":"int"}}`; string(b) != want {
		t.Errorf("got %s, want %s", b, want)
	}
	var back schema.Type
	if err := json.Unmarshal(b, &back); err != nil || back.Kind != schema.List || back.Elem.Kind != schema.Int {
		t.Errorf("round trip: %v %+v", err, back)
	}
}

// TestStoredStringIsValidated: a string that is not UTF-8 (a shell step's
// stdout of raw bytes) is normalised to what JSON stores for it, U+FFFD
// for each stray byte, in a string, inside an any and in an object key:
// the value later steps read is the value read back after a resume.
func TestStoredStringIsValidated(t *testing.T) {
	for _, s := range []string{"ab\xffcd", "\xe2\x82", "\xed\xa0\x80x", "ok é", "\xff\xfe\xfd", ""} {
		assertStoredAsValidated(t, s)
	}
	got, err := schema.Normalize(schema.AnyType, map[string]any{"k\xff": []any{"v\xfe"}}, "s")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(map[string]any{"k\uFFFD": []any{"v\uFFFD"}}, got); diff != "" {
		t.Errorf("Normalize(any) (-want +got):\n%s", diff)
	}
}

// FuzzStoredStringIsValidated: for any bytes, the normalised string is
// the one a round trip through the stored encoding (EncodeJSON) gives.
func FuzzStoredStringIsValidated(f *testing.F) {
	for _, s := range []string{"ab\xffcd", "\xe2\x82", "\xed\xa0\x80", "\U0010FFFF", "\xf4\x90\x80\x80"} {
		f.Add(s)
	}
	f.Fuzz(assertStoredAsValidated)
}

func assertStoredAsValidated(t *testing.T, s string) {
	t.Helper()
	for _, typ := range []*schema.Type{schema.StringType, schema.AnyType} {
		got, err := schema.Normalize(typ, s, "s")
		if err != nil {
			t.Fatalf("Normalize(%s, %q): %v", typ, s, err)
		}
		raw, err := schema.EncodeJSON(got)
		if err != nil {
			t.Fatal(err)
		}
		var back string
		if err := json.Unmarshal(raw, &back); err != nil {
			t.Fatal(err)
		}
		if got != back {
			t.Errorf("Normalize(%s, %q) = %q, but JSON stores %q", typ, s, got, back)
		}
	}
}
