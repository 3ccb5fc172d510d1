package config

import "testing"

// FuzzPlainHost checks canonicalHost's shortcut for host names already in
// canonical form against the whole work of hostOf.
func FuzzPlainHost(f *testing.F) {
	for _, s := range []string{"git.example.org", "a-b.c1", "-", ".", "x..y", "Git.example.org", "h:443", "[::1]", "h_x", "ü.example"} {
		f.Add("https", s)
	}
	f.Fuzz(func(t *testing.T, scheme, hostport string) {
		if hostport == "" || !plainHost(hostport) {
			return
		}
		h, name, err := canonicalHost(scheme, hostport)
		wh, wname, werr := hostOf(scheme, hostport)
		if h != wh || name != wname || (err == nil) != (werr == nil) {
			t.Fatalf("canonicalHost(%q, %q) = %q, %q, %v; hostOf: %q, %q, %v", scheme, hostport, h, name, err, wh, wname, werr)
		}
	})
}
