package ascii

import (
	"encoding/hex"
	"strings"
	"testing"
)

// TestAsTheStandardLibrary checks Lower and Hex against what they stand
// in for.
func TestAsTheStandardLibrary(t *testing.T) {
	for _, s := range []string{"", "abc", "ABC", "mIxEd.Example.ORG", "ÀÉ-Straße", "\xffA"} {
		want := strings.Map(func(r rune) rune {
			if 'A' <= r && r <= 'Z' {
				return r + 'a' - 'A'
			}
			return r
		}, s)
		if got := Lower(s); got != want && strings.ToValidUTF8(s, "") == s {
			t.Errorf("Lower(%q) = %q, want %q", s, got, want)
		}
		if got, want := Hex([]byte(s)), hex.EncodeToString([]byte(s)); got != want {
			t.Errorf("Hex(%q) = %q, want %q", s, got, want)
		}
	}
	if got := Lower("\xffA"); got != "\xffa" {
		t.Errorf("Lower of invalid UTF-8 = %q", got)
	}
}
