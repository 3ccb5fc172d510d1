package config

import (
	"strings"
	"testing"
)

// gitReq is a git credential request's URL fields, as git sends them:
// the host with its port, the path without its leading "/".
type gitReq struct{ protocol, host, path string }

// TestMatch is the security boundary: which requests a config entry hands
// its tokens to. Every "no" case is a URL that must never get a token.
func TestMatch(t *testing.T) {
	t.Parallel()
	const team = "https://git.example.org/team/"
	const registry = "registry.example.org"
	tests := []struct {
		name   string
		match  string
		git    *gitReq // a git request, or
		docker string  // a docker server URL
		want   bool
	}{
		// A URL prefix with a path, asked by git.
		{name: "repo under the prefix", match: team, git: &gitReq{"https", "git.example.org", "team/app.git"}, want: true},
		{name: "ASCII case-folded host and scheme", match: team, git: &gitReq{"HTTPS", "GIT.Example.ORG", "team/x"}, want: true},
		{name: "default port", match: team, git: &gitReq{"https", "git.example.org:443", "team/x"}, want: true},
		{name: "the prefix itself", match: team, git: &gitReq{"https", "git.example.org", "team"}, want: true},
		{name: "deeper path", match: team, git: &gitReq{"https", "git.example.org", "team/sub/deeper/app.git"}, want: true},
		{name: "query dropped from path", match: team, git: &gitReq{"https", "git.example.org", "team/app.git?x=1"}, want: true},
		{name: "match without trailing slash", match: "https://git.example.org/team", git: &gitReq{"https", "git.example.org", "team/app.git"}, want: true},
		{name: "match with upper-case host", match: "https://GIT.example.org/team/", git: &gitReq{"https", "git.example.org", "team/app.git"}, want: true},
		{name: "match with default port", match: "https://git.example.org:443/team/", git: &gitReq{"https", "git.example.org", "team/app.git"}, want: true},

		{name: "http scheme", match: team, git: &gitReq{"http", "git.example.org", "team/x"}},
		{name: "other scheme", match: team, git: &gitReq{"ssh", "git.example.org", "team/x"}},
		{name: "no scheme", match: team, git: &gitReq{"", "git.example.org", "team/x"}},
		{name: "host suffix", match: team, git: &gitReq{"https", "git.example.org.evil.com", "team/x"}},
		{name: "host prefix", match: team, git: &gitReq{"https", "evilgit.example.org", "team/x"}},
		{name: "parent domain", match: team, git: &gitReq{"https", "example.org", "team/x"}},
		{name: "host in the path", match: team, git: &gitReq{"https", "evil.com", "git.example.org/team/x"}},
		{name: "userinfo as git sends it", match: team, git: &gitReq{"https", "evil.com", "team/x"}},
		{name: "userinfo left in host", match: team, git: &gitReq{"https", "git.example.org@evil.com", "team/x"}},
		{name: "other port", match: team, git: &gitReq{"https", "git.example.org:8443", "team/x"}},
		{name: "http default port on https", match: team, git: &gitReq{"https", "git.example.org:80", "team/x"}},
		{name: "bad port", match: team, git: &gitReq{"https", "git.example.org:x", "team/x"}},
		{name: "trailing dot", match: team, git: &gitReq{"https", "git.example.org.", "team/x"}},
		{name: "segment boundary", match: team, git: &gitReq{"https", "git.example.org", "teamevil/x"}},
		{name: "prefix of the segment", match: team, git: &gitReq{"https", "git.example.org", "tea"}},
		{name: "path case differs", match: team, git: &gitReq{"https", "git.example.org", "Team/x"}},
		{name: "root path", match: team, git: &gitReq{"https", "git.example.org", "/"}},
		{name: "no path", match: team, git: &gitReq{"https", "git.example.org", ""}},
		{name: "dot-dot out of the prefix", match: team, git: &gitReq{"https", "git.example.org", "team/../evil/x"}},
		{name: "dot-dot at the end", match: team, git: &gitReq{"https", "git.example.org", "team/.."}},
		{name: "encoded dot-dot", match: team, git: &gitReq{"https", "git.example.org", "team/%2e%2E/evil/x"}},
		{name: "encoded slash and dot-dot", match: team, git: &gitReq{"https", "git.example.org", "team%2F..%2Fevil/x"}},
		{name: "no host", match: team, git: &gitReq{"https", "", "team/x"}},
		{name: "percent in host", match: team, git: &gitReq{"https", "git.example%2eorg", "team/x"}},
		{name: "space in host", match: team, git: &gitReq{"https", "git.example.org ", "team/x"}},
		{name: "Cyrillic look-alike host", match: team, git: &gitReq{"https", "git.\u0435xample.org", "team/x"}},
		{name: "Kelvin sign host", match: "https://kelvin.example.org/", git: &gitReq{"https", "\u212Aelvin.example.org", "x"}},
		{name: "Unicode host for a punycode match", match: "https://xn--bcher-kva.example/", git: &gitReq{"https", "bücher.example", "x"}},
		{name: "punycode host for a punycode match", match: "https://xn--bcher-kva.example/", git: &gitReq{"https", "xn--bcher-kva.example", "x"}, want: true},
		{name: "fullwidth dot host", match: team, git: &gitReq{"https", "git\uff0eexample.org", "team/x"}},

		// A URL prefix without a path.
		{name: "host match, any path", match: "https://git.example.org", git: &gitReq{"https", "git.example.org", "any/repo.git"}, want: true},
		{name: "host match, no path", match: "https://git.example.org/", git: &gitReq{"https", "git.example.org", ""}, want: true},
		{name: "host match, dot-dot is still the host", match: "https://git.example.org/", git: &gitReq{"https", "git.example.org", "a/../b"}, want: true},
		{name: "host match, other host", match: "https://git.example.org/", git: &gitReq{"https", "other.example.org", ""}},
		{name: "http on loopback", match: "http://127.0.0.1:8080/", git: &gitReq{"http", "127.0.0.1:8080", "x"}, want: true},
		{name: "http on loopback, https asked", match: "http://127.0.0.1:8080/", git: &gitReq{"https", "127.0.0.1:8080", "x"}},
		{name: "IPv6 loopback", match: "https://[::1]:8443/", git: &gitReq{"https", "[::1]:8443", "x"}, want: true},
		{name: "IPv6 without brackets", match: "https://[::1]:8443/", git: &gitReq{"https", "::1:8443", "x"}},

		// A registry host, asked by docker.
		{name: "registry bare", match: registry, docker: "registry.example.org", want: true},
		{name: "registry https", match: registry, docker: "https://registry.example.org", want: true},
		{name: "registry v1 path", match: registry, docker: "https://registry.example.org/v1/", want: true},
		{name: "registry v2 path", match: registry, docker: "registry.example.org/v2/", want: true},
		{name: "registry upper case", match: registry, docker: "HTTPS://Registry.Example.ORG", want: true},
		{name: "registry default port", match: registry, docker: "https://registry.example.org:443", want: true},
		{name: "registry http", match: registry, docker: "http://registry.example.org"},
		{name: "registry other port", match: registry, docker: "registry.example.org:5000"},
		{name: "registry suffix", match: registry, docker: "registry.example.org.evil.com"},
		{name: "registry sub-domain", match: registry, docker: "evil.registry.example.org"},
		{name: "registry with userinfo", match: registry, docker: "https://registry.example.org@evil.com"},
		{name: "registry other scheme", match: registry, docker: "ftp://registry.example.org"},
		{name: "registry Kelvin sign", match: "kelvin.example.org", docker: "\u212Aelvin.example.org"},
		{name: "registry Cyrillic look-alike", match: registry, docker: "r\u0435gistry.example.org"},
		{name: "registry empty", match: registry, docker: ""},
		{name: "loopback registry over http", match: "127.0.0.1:5000", docker: "http://127.0.0.1:5000", want: true},
		{name: "loopback registry bare", match: "127.0.0.1:5000", docker: "127.0.0.1:5000", want: true},
		{name: "loopback registry https", match: "127.0.0.1:5000", docker: "https://127.0.0.1:5000", want: true},
		{name: "loopback registry other port", match: "127.0.0.1:5000", docker: "http://127.0.0.1:5001"},
		{name: "loopback registry by other name", match: "127.0.0.1:5000", docker: "localhost:5000"},
		{name: "localhost registry over http", match: "localhost:5000", docker: "http://localhost:5000", want: true},

		// Across the two kinds.
		{name: "registry host answers git over https", match: registry, git: &gitReq{"https", "registry.example.org", "x"}, want: true},
		{name: "registry host refuses git over http", match: registry, git: &gitReq{"http", "registry.example.org", "x"}},
		{name: "https host prefix answers docker", match: "https://registry.example.org/", docker: "registry.example.org", want: true},
		{name: "https path prefix refuses docker", match: "https://registry.example.org/v2/", docker: "https://registry.example.org/v2/"},
		{name: "http loopback prefix answers bare docker", match: "http://127.0.0.1:5000", docker: "127.0.0.1:5000", want: true},
		{name: "http non-loopback prefix refuses bare docker", match: "http://registry.example.org", docker: "registry.example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p, err := ParsePattern(tt.match)
			if err != nil {
				t.Fatalf("ParsePattern(%q): %v", tt.match, err)
			}
			var tg Target
			var ok bool
			if tt.git != nil {
				tg, ok = GitTarget(tt.git.protocol, tt.git.host, tt.git.path)
			} else {
				tg, ok = DockerTarget(tt.docker)
			}
			got := false
			if ok {
				_, got = p.MatchLen(tg)
			}
			if got != tt.want {
				t.Errorf("match %q answers %+v (target ok %v): %v, want %v", tt.match, tg, ok, got, tt.want)
			}
		})
	}
}

func TestParsePatternRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, match string }{
		{"empty", ""},
		{"unicode host", "https://bücher.example/"},
		{"Kelvin sign", "https://\u212Aelvin.example.org/"},
		{"Cyrillic", "https://git.\u0435xample.org/"},
		{"unicode registry", "bücher.example"},
		{"userinfo", "https://user@git.example.org/"},
		{"query", "https://git.example.org/?x=1"},
		{"fragment", "https://git.example.org/#x"},
		{"ssh", "ssh://git.example.org/"},
		{"registry with path", "registry.example.org/v2"},
		{"registry with userinfo", "user@registry.example.org"},
		{"port zero", "registry.example.org:0"},
		{"port too large", "https://git.example.org:65536/"},
		{"port not a number", "registry.example.org:abc"},
		{"no host", "https:///team/"},
		{"percent in host", "https://git%2eexample.org/"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if p, err := ParsePattern(tt.match); err == nil {
				t.Errorf("ParsePattern(%q) = %+v, want an error", tt.match, p)
			}
		})
	}
}

// FuzzMatch checks the matching rules on arbitrary config values and
// requests: no panics, and every match is an exact host[:port] on an
// allowed scheme, under the prefix on a segment boundary.
func FuzzMatch(f *testing.F) {
	f.Add("https://git.example.org/team/", "https", "git.example.org", "team/app.git", "registry.example.org")
	f.Add("registry.example.org", "HTTPS", "GIT.Example.ORG:443", "team/x", "https://registry.example.org/v1/")
	f.Add("127.0.0.1:5000", "http", "127.0.0.1:5000", "", "http://127.0.0.1:5000")
	f.Add("https://[::1]:8443/a", "https", "[::1]:8443", "a/../b", "[::1]:8443")
	f.Add("http://localhost/x/", "http", "localhost:80", "x/%2e%2e/y", "localhost")
	f.Add("https://\u212Aelvin.org/", "https", "kelvin.org", "x", "\u212Aelvin.org")
	f.Fuzz(func(t *testing.T, match, protocol, host, path, serverURL string) {
		p, err := ParsePattern(match)
		if err != nil {
			return
		}
		if p.Host == "" || p.Hostname == "" || ASCIILower(p.Host) != p.Host {
			t.Fatalf("ParsePattern(%q) = %+v", match, p)
		}
		for _, r := range p.Host {
			if r <= ' ' || r >= 0x7f {
				t.Fatalf("ParsePattern(%q): non-ASCII host %q", match, p.Host)
			}
		}
		if p.Path != "" && (p.Path[0] != '/' || p.Path[len(p.Path)-1] != '/') {
			t.Fatalf("ParsePattern(%q): path %q is not a segment prefix", match, p.Path)
		}
		check := func(tg Target) {
			n, ok := p.MatchLen(tg)
			if !ok {
				return
			}
			if tg.Host != p.Host || tg.Hostname != p.Hostname {
				t.Fatalf("%+v answers %+v on another host", p, tg)
			}
			if n < len(p.Host) {
				t.Fatalf("%+v answers %+v with length %d", p, tg, n)
			}
			scheme := tg.Scheme
			if scheme == "" {
				scheme = p.Scheme
			}
			if scheme == "http" && !isLoopback(tg.Hostname) && p.Scheme != "http" {
				t.Fatalf("%+v answers %+v over plain http", p, tg)
			}
			if p.Scheme != "" && tg.Scheme != "" && p.Scheme != tg.Scheme {
				t.Fatalf("%+v answers %+v on another scheme", p, tg)
			}
			if p.Path != "" && (hasDotSegment(tg.Path) || !strings.HasPrefix(tg.Path+"/", p.Path)) {
				t.Fatalf("%+v answers path %q", p, tg.Path)
			}
		}
		if tg, ok := GitTarget(protocol, host, path); ok {
			check(tg)
			// Case in the scheme and host does not matter.
			up, ok := GitTarget(strings.ToUpper(protocol), strings.ToUpper(host), path)
			if !ok || up != tg {
				t.Fatalf("gitTarget differs by case: %+v, %+v", tg, up)
			}
		}
		if tg, ok := DockerTarget(serverURL); ok {
			if tg.Path != "" {
				t.Fatalf("DockerTarget(%q) has a path %q", serverURL, tg.Path)
			}
			check(tg)
		}
		// The canonical form parses to the same pattern.
		canon := p.Host
		if p.Scheme != "" {
			canon = p.Scheme + "://" + p.Host + p.Path
		}
		if again, err := ParsePattern(canon); err != nil || again != p {
			t.Fatalf("ParsePattern(%q) = %+v, %v; want %+v", canon, again, err, p)
		}
	})
}
