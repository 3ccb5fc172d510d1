package storekey

import (
	"net"
	"strings"
	"testing"
)

// hostPorts are addresses on the edges of net.SplitHostPort's rules.
var hostPorts = []string{
	"", ":", "::", ":80", "h", "h:", "h:80", "h:80:90", "[::1]:80", "[::1]", "[::1]80",
	"[::1]:80:90", "[::1]]:80", "[[::1]:80", "[fe80::1%eth0]:443", "a[b:80", "a]b:80",
	"[h]:80", "[]:80", "1.2.3.4:5", "[1.2.3.4]:5", "::1:80", "h:port", "[::1]:", "[:80",
	"]:80", "h]:80", "[h:80]", "x.example.org:443",
}

// TestHostPortAsNet checks SplitHostPort and JoinHostPort against net's,
// which they stand in for in the small commands.
func TestHostPortAsNet(t *testing.T) {
	for _, hp := range hostPorts {
		checkHostPort(t, hp)
	}
}

// FuzzHostPort is TestHostPortAsNet for any address.
func FuzzHostPort(f *testing.F) {
	for _, hp := range hostPorts {
		f.Add(hp)
	}
	f.Fuzz(checkHostPort)
}

func checkHostPort(t *testing.T, hp string) {
	wantHost, wantPort, err := net.SplitHostPort(hp)
	host, port, ok := SplitHostPort(hp)
	if ok != (err == nil) || host != wantHost || port != wantPort {
		t.Errorf("SplitHostPort(%q) = %q, %q, %v; net: %q, %q, %v", hp, host, port, ok, wantHost, wantPort, err)
	}
	if got, want := JoinHostPort(hp, "8080"), net.JoinHostPort(hp, "8080"); got != want {
		t.Errorf("JoinHostPort(%q, 8080) = %q; net: %q", hp, got, want)
	}
}

// TestIsLoopbackAsNet checks IsLoopback against net.ParseIP's reading of
// addresses, which it no longer uses.
func TestIsLoopbackAsNet(t *testing.T) {
	for _, host := range []string{
		"127.0.0.1", "127.255.255.254", "128.0.0.1", "::1", "[::1]", "::2", "::ffff:127.0.0.1",
		"::ffff:10.0.0.1", "fe80::1%eth0", "::1%lo", "127.0.0.1%lo", "0127.0.0.1", "127.1",
		"localhost", "LocalHost.", "localhost.example.org", "", "127.0.0.1.", "0:0:0:0:0:0:0:1",
	} {
		want := host == "localhost" || host == "LocalHost."
		if ip := net.ParseIP(trimHost(host)); ip != nil {
			want = ip.IsLoopback()
		}
		if got := IsLoopback(host); got != want {
			t.Errorf("IsLoopback(%q) = %v, want %v (net.ParseIP)", host, got, want)
		}
	}
}

// trimHost is what IsLoopback strips before it reads an address.
func trimHost(host string) string {
	return strings.TrimSuffix(strings.Trim(host, "[]"), ".")
}
