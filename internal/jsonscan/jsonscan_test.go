package jsonscan

import (
	"bytes"
	"encoding/json"
	"testing"
)

// FuzzFindEntry checks the scan of the read path against encoding/json:
// on every document encoding/json accepts, the scan accepts it too and
// finds the same entry and the same bare-token marker; on valid JSON that
// is no object it refuses it; and whatever it accepts, the entry it
// returns is valid JSON.
func FuzzFindEntry(f *testing.F) {
	for _, s := range []string{
		``, `null`, `{}`, ` {"k": 1} `, `[]`, `"s"`, `{"k": 1, "k": 2}`, `{"k": {"a": [1, {"b": null}]}, "x": "y"}`,
		`{"k\/": 1}`, `{"\u006b": [true, false]}`, `{"k": "a\"b\\"}`, `{"access_token": "t", "expires": 1}`,
		`{"k": 1}x`, `{"k" 1}`, `{"k": 1,}`, `{"k": tru}`, `{"x": "\xff", "k": -1.5e+3}`, `{"k": [1 2]}`,
		`{"k": "\u12"}`, "{\"k\": \"\t\"}", `{"a": {"b": "\q"}, "k": 2}`, `{"k":1}{}`, `nul`, `{"k": 01}`,
	} {
		f.Add([]byte(s), "k")
	}
	f.Fuzz(func(t *testing.T, b []byte, key string) {
		raw, bare, err := FindEntry(b, key)
		if !json.Valid(b) {
			if err == nil && raw != nil && !json.Valid(raw) {
				t.Fatalf("scan of %q returned invalid entry %q", b, raw)
			}
			return
		}
		var m map[string]json.RawMessage
		jerr := json.Unmarshal(b, &m)
		if jerr != nil { // valid JSON, not an object
			if err == nil && !bytes.Equal(bytes.TrimSpace(b), []byte("null")) {
				t.Fatalf("scan accepts %q, which is no object: %v", b, jerr)
			}
			return
		}
		if err != nil {
			t.Fatalf("scan refuses %q, which encoding/json accepts: %v", b, err)
		}
		if want, ok := m[key]; !bytes.Equal(raw, want) || ok != (raw != nil) {
			t.Fatalf("scan of %q for %q = %q, encoding/json: %q", b, key, raw, want)
		}
		if want := m["access_token"]; !bytes.Equal(bare, want) {
			t.Fatalf("scan of %q: access_token = %q, encoding/json: %q", b, bare, want)
		}
	})
}
