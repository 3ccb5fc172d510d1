package keyring_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/keyring"
)

func TestKey(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"bare host defaults to https", "auth.example.org", "https://auth.example.org"},
		{"surrounding whitespace trimmed", "  auth.example.org\t\n", "https://auth.example.org"},
		{"bare host with path", "auth.example.org/api/app", "https://auth.example.org"},
		{"bare host with default port", "auth.example.org:443", "https://auth.example.org"},
		{"bare host with other port", "auth.example.org:8443", "https://auth.example.org:8443"},
		{"bare host with port 80 is https so kept", "auth.example.org:80", "https://auth.example.org:80"},
		{"scheme and host case folded", "HTTPS://Auth.Example.ORG", "https://auth.example.org"},
		{"doc comment example", "HTTPS://Auth.Example.org:443/api/app", "https://auth.example.org"},
		{"http kept", "http://auth.example.org", "http://auth.example.org"},
		{"http default port dropped", "HTTP://Auth.Example.org:80/", "http://auth.example.org"},
		{"http port 443 kept", "http://auth.example.org:443", "http://auth.example.org:443"},
		{"https port 80 kept", "https://auth.example.org:80", "https://auth.example.org:80"},
		{"non-default port kept", "https://auth.example.org:8443/x", "https://auth.example.org:8443"},
		{"localhost port kept", "http://localhost:8080", "http://localhost:8080"},
		{"trailing slash dropped", "https://auth.example.org/", "https://auth.example.org"},
		{"path dropped", "https://auth.example.org/api/app/", "https://auth.example.org"},
		{"query and fragment dropped", "https://auth.example.org/p?x=1&y=2#frag", "https://auth.example.org"},
		{"query without path dropped", "https://auth.example.org?x=1", "https://auth.example.org"},
		{"userinfo dropped", "https://user:secret@Auth.Example.org:443/p", "https://auth.example.org"},
		{"userinfo without scheme dropped", "user@auth.example.org", "https://auth.example.org"},
		{"IPv4 literal with port", "http://127.0.0.1:9000/x", "http://127.0.0.1:9000"},
		{"IPv6 literal without port", "https://[2001:DB8::1]/x", "https://[2001:db8::1]"},
		{"IPv6 literal with port", "https://[2001:DB8::1]:8443/x", "https://[2001:db8::1]:8443"},
		{"IPv6 literal with default port", "https://[::1]:443", "https://[::1]"},
		{"IPv6 literal http default port", "http://[::1]:80/", "http://[::1]"},
		{"IPv6 literal without scheme", "[::1]", "https://[::1]"},
		{"IPv6 literal without scheme with port", "[::1]:8443", "https://[::1]:8443"},
		{"IPv6 literal with zone keeps it escaped", "https://[FE80::1%25Eth0]:443/x", "https://[fe80::1%25eth0]"},
		{"IPv6 literal with zone and port", "[fe80::1%25eth0]:8443", "https://[fe80::1%25eth0]:8443"},
		{"escaped percent in host stays escaped", "https://a%25b.example", "https://a%25b.example"},
		{"scheme-relative with :// in the path", "//0://", "https://0"},
		{"other scheme lowercased and kept", "FTP://Files.Example.org:21/x", "ftp://files.example.org:21"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := keyring.Key(tt.in)
			if err != nil {
				t.Fatalf("Key(%q) error: %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("Key(%q) = %q, want %q", tt.in, got, tt.want)
			}
			again, err := keyring.Key(got)
			if err != nil || again != got {
				t.Errorf("Key(%q) = %q, %v; want it unchanged", got, again, err)
			}
		})
	}
}

func TestKeyErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"whitespace only", " \t\n "},
		{"scheme only", "https://"},
		{"scheme and path only", "https:///api/app"},
		{"path only", "/api/app"},
		{"missing scheme name", "://auth.example.org"},
		{"port only", "https://:8443"},
		{"unclosed IPv6 literal", "https://[::1"},
		{"IPv6 literal without brackets", "https://::1"},
		{"IPv6 literal without brackets or scheme", "::0"},
		{"colon host with port", "a://::0"},
		{"no-break space in host", "https://auth.example.org\u00a0#x"},
		{"ideographic space in host", "https://auth\u3000example.org"},
		{"space in host", "https://auth example.org"},
		{"non-numeric port", "https://auth.example.org:https"},
		{"bad percent escape", "https://auth.example.org/%zz"},
		{"control character", "https://auth.example.org\x7f"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := keyring.Key(tt.in)
			if err == nil {
				t.Fatalf("Key(%q) = %q, want an error", tt.in, got)
			}
			if got != "" {
				t.Errorf("Key(%q) returned %q along with the error", tt.in, got)
			}
			if !strings.HasPrefix(err.Error(), "flows: ") {
				t.Errorf("error %q lacks the package prefix", err)
			}
		})
	}
}

func FuzzKey(f *testing.F) {
	for _, s := range []string{
		"", "auth.example.org", "HTTPS://Auth.Example.org:443/api/app",
		"http://h:80", "https://u:p@h:8443/p?q#f", "[::1]", "[::1]:443",
		"https://[fe80::1%25eth0]:8443", "https://a%25b", "https://%C3%A9.example",
		"https://[::1", "://x", " http://X ", "ftp://h:21",
		// Inputs the fuzzer found to break idempotency before they were fixed.
		"//0://", "\xa0\u00a0#0", "A://::0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		k, err := keyring.Key(in)
		if err != nil {
			if k != "" {
				t.Fatalf("Key(%q) = %q with error %v", in, k, err)
			}
			return
		}
		k2, err := keyring.Key(k)
		if err != nil {
			t.Fatalf("Key(%q) = %q, but Key(%q) fails: %v", in, k, k, err)
		}
		if k2 != k {
			t.Fatalf("Key not idempotent: Key(%q) = %q, Key(%q) = %q", in, k, k, k2)
		}
		u, err := url.Parse(k)
		if err != nil {
			t.Fatalf("Key(%q) = %q, not a URL: %v", in, k, err)
		}
		if u.Host == "" || u.Path != "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Fatalf("Key(%q) = %q has more than scheme and host: %#v", in, k, u)
		}
	})
}
