package scan

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// FuzzValid checks Valid against encoding/json.Valid: they agree on every
// text in valid UTF-8, and Valid accepts nothing that encoding/json
// refuses.
func FuzzValid(f *testing.F) {
	for _, s := range []string{
		``, ` `, `null`, `nul`, `true`, `tru`, `false`, `0`, `-0`, `01`, `-`, `1.`, `1.5`, `.5`, `1e5`, `1E+5`, `1e`, `-1.5e-3`,
		`""`, `"a\"b"`, `"\u12"`, `"\u00e9"`, `"\q"`, "\"\t\"", `"\xff"`, "\"\xff\"", `[]`, `[1,2]`, `[1 2]`, `[1,]`, `{}`,
		`{"a":1}`, `{"a" 1}`, `{"a":1,}`, `{1:2}`, `{"a":[{"b":null}]}`, ` {"k": 1} x`, `{"k":1}{}`, "\"é\"",
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, want := Valid(b), json.Valid(b)
		if got && !want {
			t.Fatalf("Valid(%q) = true, encoding/json refuses it", b)
		}
		if utf8.Valid(b) && got != want {
			t.Fatalf("Valid(%q) = %v, encoding/json.Valid = %v", b, got, want)
		}
	})
}
