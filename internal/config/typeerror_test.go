package config

import (
	"regexp"
	"testing"
)

// FuzzTypeError checks typeError against the regular expression it
// spells out.
func FuzzTypeError(f *testing.F) {
	re := regexp.MustCompile(`cannot decode TOML (\w+) into struct field \S+ of type (\S+)`)
	for _, s := range []string{
		"toml: cannot decode TOML integer into struct field config.Server.Match of type string",
		"cannot decode TOML string into struct field x of type []int and more",
		"cannot decode TOML  into struct field x of type y",
		"cannot decode TOML a-b into struct field x of type y",
		"cannot decode TOML x into struct field  of type y cannot decode TOML bool into struct field s.t of type bool",
		"cannot decode TOML x into struct field a b of type c",
		"cannot decode TOML x into struct field a of type ",
		"cannot decode TOML cannot decode TOML x into struct field f of type t",
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		kind, typ, ok := typeError(s)
		m := re.FindStringSubmatch(s)
		if ok != (m != nil) || ok && (kind != m[1] || typ != m[2]) {
			t.Fatalf("typeError(%q) = %q, %q, %v; the expression finds %q", s, kind, typ, ok, m)
		}
	})
}
