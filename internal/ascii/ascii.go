// Package ascii holds what the small commands share of text handling that
// the standard library does not have, and imports nothing (see
// internal/lean).
package ascii

// Lower lowercases ASCII letters only.
func Lower(s string) string {
	i := 0
	for i < len(s) && (s[i] < 'A' || s[i] > 'Z') {
		i++
	}
	if i == len(s) {
		return s
	}
	b := []byte(s)
	for ; i < len(b); i++ {
		if c := b[i]; 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// Hex is encoding/hex.EncodeToString, which imports fmt.
func Hex(b []byte) string {
	const digits = "0123456789abcdef"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// Safe replaces the control characters of s (C0, DEL and C1) with '?',
// for a message that names something a user or a server chose.
func Safe(s string) string {
	b := []rune(s)
	for i, r := range b {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			b[i] = '?'
		}
	}
	return string(b)
}
