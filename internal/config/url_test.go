package config

import (
	"net/url"
	"reflect"
	"testing"
)

// FuzzParseURL checks the quick path of the config's URL parsing against
// url.Parse: whatever it splits, url.Parse splits the same way.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"https://git.example.org/team/", "http://127.0.0.1:8080", "https://Auth.Example.org:443/api/app",
		"https://h:", "https://h:x", "https://[::1]:1/", "https://u@h/", "https://h/a%20b", "https://h/?q",
		"HTTPS://h/", "https://", "https:///x", "https://h/a b", "https://h:99999999999999999999/",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := plainURL(s)
		if !ok {
			return
		}
		want, err := url.Parse(s)
		if err != nil {
			t.Fatalf("plainURL(%q) = %#v, but url.Parse: %v", s, got, err)
		}
		if !reflect.DeepEqual(&got, want) {
			t.Fatalf("plainURL(%q) = %#v, url.Parse = %#v", s, got, want)
		}
		if got.Hostname() != want.Hostname() || got.Port() != want.Port() {
			t.Fatalf("plainURL(%q): host %q port %q, url.Parse: %q %q", s, got.Hostname(), got.Port(), want.Hostname(), want.Port())
		}
	})
}

// TestPlainURL pins which URLs take the quick path, so that FuzzParseURL
// compares something.
func TestPlainURL(t *testing.T) {
	for s, plain := range map[string]bool{
		"https://git.example.org/team/": true, "http://127.0.0.1:8080": true, "https://auth.example.org": true,
		"https://h:": false, "https://[::1]/": false, "https://u@h/": false, "https://h/a%20b": false, "https://h/?q": false,
	} {
		if _, got := plainURL(s); got != plain {
			t.Errorf("plainURL(%q) splits it: %v, want %v", s, got, plain)
		}
	}
}
