package helper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/keyring"
)

const (
	maxRequest = 64 << 10
	maxLine    = 16 << 10
)

// sized returns a request of exactly n bytes, the blank line included, in
// lines of about lineLen bytes.
func sized(n, lineLen int) string {
	var b strings.Builder
	for i := 0; ; i++ {
		left := n - 1 - b.Len() // the blank line comes last
		l := lineLen
		if left < 2*lineLen {
			l = left
		}
		key := "k" + strconv.Itoa(i) + "="
		b.WriteString(key + strings.Repeat("v", l-len(key)-1) + "\n")
		if l == left {
			break
		}
	}
	b.WriteString("\n")
	return b.String()
}

var parseGitRequestTests = []struct {
	name    string
	in      string
	want    map[string][]string
	wantErr string
}{
	{
		name: "normal",
		in:   "protocol=https\nhost=git.example.org\npath=team/app.git\n\n",
		want: map[string][]string{"protocol": {"https"}, "host": {"git.example.org"}, "path": {"team/app.git"}},
	},
	{
		name: "CRLF endings",
		in:   "protocol=https\r\nhost=git.example.org\r\n\r\n",
		want: map[string][]string{"protocol": {"https"}, "host": {"git.example.org"}},
	},
	{
		name: "EOF without blank line",
		in:   "protocol=https\nhost=git.example.org",
		want: map[string][]string{"protocol": {"https"}, "host": {"git.example.org"}},
	},
	{
		name: "EOF after last newline",
		in:   "protocol=https\nhost=git.example.org\n",
		want: map[string][]string{"protocol": {"https"}, "host": {"git.example.org"}},
	},
	{
		name: "empty input",
		in:   "",
		want: map[string][]string{},
	},
	{
		name: "only a blank line",
		in:   "\n",
		want: map[string][]string{},
	},
	{
		name: "multi-values in order",
		in: "capability[]=authtype\ncapability[]=state\nprotocol=https\nhost=h\n" +
			"wwwauth[]=Bearer realm=\"first\", scope=\"a b\"\nwwwauth[]=Basic realm=\"second\"\n\n",
		want: map[string][]string{
			"capability[]": {"authtype", "state"},
			"protocol":     {"https"},
			"host":         {"h"},
			"wwwauth[]":    {`Bearer realm="first", scope="a b"`, `Basic realm="second"`},
		},
	},
	{
		name: "unknown keys kept",
		in:   "protocol=https\nfuture-key=some value\nhost=h\n\n",
		want: map[string][]string{"protocol": {"https"}, "future-key": {"some value"}, "host": {"h"}},
	},
	{
		name: "value with equals signs and spaces",
		in:   "password=a=b=c \nusername= spaced\n\n",
		want: map[string][]string{"password": {"a=b=c "}, "username": {" spaced"}},
	},
	{
		name: "empty value",
		in:   "username=\n\n",
		want: map[string][]string{"username": {""}},
	},
	{
		name: "repeated plain key keeps all",
		in:   "host=a\nhost=b\n\n",
		want: map[string][]string{"host": {"a", "b"}},
	},
	{
		name: "stops at the first blank line",
		in:   "protocol=https\nhost=git.example.org\n\nhost=evil.com\nno equals sign\n\x00\n",
		want: map[string][]string{"protocol": {"https"}, "host": {"git.example.org"}},
	},
	{
		name: "stops at a CRLF blank line",
		in:   "protocol=https\r\n\r\nhost=evil.com\r\n",
		want: map[string][]string{"protocol": {"https"}},
	},
	{
		name: "line of exactly 16 KiB",
		in:   "k=" + strings.Repeat("v", maxLine-3) + "\n\n",
		want: map[string][]string{"k": {strings.Repeat("v", maxLine-3)}},
	},
	{
		name: "request of exactly 64 KiB",
		in:   sized(maxRequest, 1000),
	},
	{name: "line without equals sign", in: "protocol=https\nhost\n\n", wantErr: "without key=value"},
	{name: "empty key", in: "protocol=https\n=x\n\n", wantErr: "without key=value"},
	{name: "only an equals sign", in: "=\n\n", wantErr: "without key=value"},
	{name: "NUL in a value", in: "protocol=https\nhost=git.example.org\x00evil.com\n\n", wantErr: "NUL"},
	{name: "NUL in a key", in: "ho\x00st=h\n\n", wantErr: "NUL"},
	{name: "NUL in the last line", in: "host=h\x00", wantErr: "NUL"},
	{name: "line over 16 KiB", in: "k=" + strings.Repeat("v", maxLine-2) + "\n\n", wantErr: "too large"},
	{name: "request over 64 KiB", in: sized(maxRequest+1, 1000), wantErr: "too large"},
	{name: "request over 64 KiB without blank line", in: strings.Repeat("k=v\n", maxRequest), wantErr: "too large"},
	{name: "one huge line without newline", in: "k=" + strings.Repeat("v", 1<<20), wantErr: "too large"},
}

func TestParseGitRequest(t *testing.T) {
	t.Parallel()
	for _, tt := range parseGitRequestTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			req, err := helper.ParseGitRequest(strings.NewReader(tt.in))
			if tt.wantErr != "" {
				if err == nil {
					t.Fatalf("ParseGitRequest = %v, want an error with %q", req.Fields, tt.wantErr)
				}
				if !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "helper: ") {
					t.Errorf("error %q, want helper: …%s…", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseGitRequest: %v", err)
			}
			if tt.want == nil { // size tests: just accepted
				return
			}
			if !reflect.DeepEqual(req.Fields, tt.want) {
				t.Errorf("fields = %q\nwant     %q", req.Fields, tt.want)
			}
		})
	}
}

func TestGitRequestGetAndCapable(t *testing.T) {
	t.Parallel()
	req, err := helper.ParseGitRequest(strings.NewReader("capability[]=state\ncapability[]=authtype\nhost=a\nhost=b\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		got  any
		want any
	}{
		{"last value of a repeated key", req.Get("host"), "b"},
		{"missing key", req.Get("path"), ""},
		{"announced capability", req.Capable("authtype"), true},
		{"other announced capability", req.Capable("state"), true},
		{"capability not announced", req.Capable("authtypes"), false},
		{"capability key is not a value", req.Capable("capability[]"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.got != tt.want {
				t.Errorf("got %v, want %v", tt.got, tt.want)
			}
		})
	}
}

// FuzzParseGitRequest checks that no input panics the parser, and that what
// it accepts is small, NUL-free, made of key=value lines, and parses the
// same when written back.
func FuzzParseGitRequest(f *testing.F) {
	for _, tt := range parseGitRequestTests {
		if len(tt.in) < 4096 {
			f.Add([]byte(tt.in))
		}
	}
	f.Add([]byte("a=b\r\r\n\n"))
	f.Add([]byte("\r\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		req, err := helper.ParseGitRequest(bytes.NewReader(in))
		if err != nil {
			if req != nil {
				t.Errorf("error %v with a request %v", err, req.Fields)
			}
			return
		}
		total := 0
		for k, vs := range req.Fields {
			if k == "" || strings.ContainsAny(k, "=\n") {
				t.Errorf("key %q", k)
			}
			if len(vs) == 0 {
				t.Errorf("key %q has no values", k)
			}
			for _, v := range vs {
				if strings.ContainsAny(k+v, "\x00\n") {
					t.Errorf("%q=%q holds a NUL or newline", k, v)
				}
				total += len(k) + len(v) + 2
			}
		}
		if total > maxRequest || total > len(in)+1 {
			t.Errorf("accepted %d bytes of fields from %d bytes of input", total, len(in))
		}
		// Written back with "\n" endings, the request parses the same.
		var b strings.Builder
		for k, vs := range req.Fields {
			for _, v := range vs {
				if strings.HasSuffix(v, "\r") {
					return // "a=b\r\r\n" loses its last "\r" once more
				}
				b.WriteString(k + "=" + v + "\n")
			}
		}
		again, err := helper.ParseGitRequest(strings.NewReader(b.String() + "\n"))
		if err != nil {
			t.Fatalf("written back %q: %v", b.String(), err)
		}
		if !reflect.DeepEqual(again.Fields, req.Fields) {
			t.Errorf("written back %q parses as %q, want %q", b.String(), again.Fields, req.Fields)
		}
	})
}

func TestGitGet(t *testing.T) {
	t.Parallel()
	host := tripwire(t)
	cfg := mustParseConfig(t,
		"# the team's repos\n"+
			serverEntry("https://git.example.org/team/", host)+
			serverEntry("https://git.example.org/bots/", host, `username = "ci-bot"`)+
			serverEntry("https://git.example.org/basic/", host, `auth = "basic"`)+
			serverEntry("https://git.example.org/bearer/", host, `auth = "bearer"`)+
			serverEntry("https://git.example.org/auto/", host, `auth = "auto"`))
	store := newStore(t)
	exp := putToken(t, store, host, "tok-A", nil)
	expiry := strconv.FormatInt(exp, 10)
	// The three answers of GitGet.
	password := func(user string) string {
		return "username=" + user + "\npassword=tok-A\npassword_expiry_utc=" + expiry + "\n"
	}
	basic := func(user string) string {
		return "capability[]=authtype\nauthtype=Basic\ncredential=" + base64.StdEncoding.EncodeToString([]byte(user+":tok-A")) +
			"\nephemeral=1\npassword_expiry_utc=" + expiry + "\n"
	}
	bearer := "capability[]=authtype\nauthtype=Bearer\ncredential=tok-A\nephemeral=1\npassword_expiry_utc=" + expiry + "\n"
	const (
		authtype    = "capability[]=authtype"
		basicRealm  = `wwwauth[]=Basic realm="git"`
		bearerRealm = `wwwauth[]=Bearer realm="git"`
	)

	tests := []struct {
		name string
		in   string
		want string
	}{
		{
			name: "token for a configured URL",
			in:   gitRequest("https", "git.example.org", "team/app.git"),
			want: password("oauth2"),
		},
		{
			name: "CRLF request",
			in:   "protocol=https\r\nhost=git.example.org\r\npath=team/app.git\r\n\r\n",
			want: password("oauth2"),
		},
		{
			name: "configured username",
			in:   gitRequest("https", "git.example.org", "bots/app.git"),
			want: password("ci-bot"),
		},
		{
			name: "other capability only",
			in:   gitRequest("https", "git.example.org", "team/app.git", "capability[]=state", bearerRealm),
			want: password("oauth2"),
		},
		{
			name: "Bearer challenge to a git without authtype",
			in:   gitRequest("https", "git.example.org", "team/app.git", bearerRealm),
			want: password("oauth2"),
		},
		{
			name: "authtype and a Basic challenge",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, "capability[]=state", basicRealm),
			want: basic("oauth2"),
		},
		{
			name: "authtype without a challenge (http.proactiveAuth=auto)",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype),
			want: basic("oauth2"),
		},
		{
			name: "authtype and proactive Basic (http.proactiveAuth=basic)",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, "wwwauth[]=Basic"),
			want: basic("oauth2"),
		},
		{
			name: "authtype and a Bearer challenge",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, bearerRealm),
			want: bearer,
		},
		{
			name: "authtype among other capabilities and a Bearer challenge",
			in:   gitRequest("https", "git.example.org", "bots/x", "capability[]=state", authtype, bearerRealm),
			want: bearer,
		},
		{
			name: "Bearer after Basic in one field",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, `wwwauth[]=Basic realm="a, b", Bearer realm="x", scope="repo"`),
			want: bearer,
		},
		{
			name: "Bearer in the second field",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, basicRealm, `wwwauth[]=bEARER`),
			want: bearer,
		},
		{
			name: "Bearer before a broken challenge",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, `wwwauth[]=Bearer realm="x", Basic realm="unterminated`),
			want: bearer,
		},
		{
			name: "Bearer only inside a quoted realm",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, `wwwauth[]=Basic realm="Bearer, Bearer x"`),
			want: basic("oauth2"),
		},
		{
			name: "Bearer only as a parameter",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, `wwwauth[]=Basic realm="x", bearer=1`),
			want: basic("oauth2"),
		},
		{
			name: "Bearer only as a token68",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, `wwwauth[]=Negotiate Bearer`),
			want: basic("oauth2"),
		},
		{
			name: "scheme with Bearer as a prefix",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, `wwwauth[]=BearerToken realm="x"`),
			want: basic("oauth2"),
		},
		{
			name: "auto written out",
			in:   gitRequest("https", "git.example.org", "auto/app.git", authtype, bearerRealm),
			want: bearer,
		},
		{
			name: "auth basic and a Bearer challenge",
			in:   gitRequest("https", "git.example.org", "basic/app.git", authtype, bearerRealm),
			want: basic("oauth2"),
		},
		{
			name: "auth bearer and a Basic challenge",
			in:   gitRequest("https", "git.example.org", "bearer/app.git", authtype, basicRealm),
			want: bearer,
		},
		{
			name: "auth bearer without a challenge",
			in:   gitRequest("https", "git.example.org", "bearer/app.git", authtype),
			want: bearer,
		},
		{
			name: "auth bearer to a git without authtype",
			in:   gitRequest("https", "git.example.org", "bearer/app.git", bearerRealm),
			want: password("oauth2"),
		},
		{
			name: "username from the URL",
			in:   gitRequest("https", "git.example.org", "team/app.git", "username=alice"),
			want: password("alice"),
		},
		{
			name: "username from the URL with authtype",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, basicRealm, "username=alice"),
			want: basic("alice"),
		},
		{
			name: "username from the URL and a Bearer answer",
			in:   gitRequest("https", "git.example.org", "team/app.git", authtype, bearerRealm, "username=alice"),
			want: bearer,
		},
		{
			name: "configured username wins over the URL's",
			in:   gitRequest("https", "git.example.org", "bots/app.git", authtype, basicRealm, "username=alice"),
			want: basic("ci-bot"),
		},
		{
			name: "empty username from git",
			in:   gitRequest("https", "git.example.org", "team/app.git", "username="),
			want: password("oauth2"),
		},
		{
			name: "username with a colon",
			in:   gitRequest("https", "git.example.org", "team/app.git", "username=a:b"),
			want: password("oauth2"),
		},
		{
			name: "username with a control character",
			in:   gitRequest("https", "git.example.org", "team/app.git", "username=a\rb"),
			want: password("oauth2"),
		},
		{name: "other path", in: gitRequest("https", "git.example.org", "other/app.git")},
		{name: "no path", in: gitRequest("https", "git.example.org", "")},
		{name: "dot-dot out of the prefix", in: gitRequest("https", "git.example.org", "team/../other/app.git")},
		{name: "other host", in: gitRequest("https", "git.example.org.evil.com", "team/app.git")},
		{name: "http", in: gitRequest("http", "git.example.org", "team/app.git")},
		{name: "ssh", in: gitRequest("ssh", "git.example.org", "team/app.git")},
		{name: "no host", in: "protocol=https\npath=team/app.git\n\n"},
		{name: "empty request", in: "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			tty := &fakeTerminal{}
			h := &helper.Helper{Config: cfg, Store: store, Log: &log, Name: "git-credential-oidc", Terminal: tty.open}
			var out bytes.Buffer
			if err := h.GitGet(context.Background(), strings.NewReader(tt.in), &out); err != nil {
				t.Fatalf("GitGet: %v", err)
			}
			if out.String() != tt.want {
				t.Errorf("output\n%q\nwant\n%q", out.String(), tt.want)
			}
			if log.String() != "" {
				t.Errorf("log %q, want none", log.String())
			}
			if tty.String() != "" || !tty.closed() {
				t.Errorf("terminal got %q (closed %v), want nothing", tty.String(), tty.closed())
			}
			if n := tty.everOpened(); n != 0 {
				t.Errorf("the terminal was opened %d times; a cached token needs no terminal", n)
			}
		})
	}
}

func TestGitGetNoLogin(t *testing.T) {
	t.Parallel()
	host := tripwire(t)
	cfg := mustParseConfig(t, serverEntry("https://git.example.org/team/", host))
	terminals := map[string]func() (io.WriteCloser, error){
		"no terminal":    nil,
		"terminal fails": func() (io.WriteCloser, error) { return nil, errors.New("open /dev/tty: no such device") },
	}
	for name, term := range terminals {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			h := &helper.Helper{Config: cfg, Store: newStore(t), Log: &log, Name: "git-credential-oidc", Terminal: term}
			var out bytes.Buffer
			err := h.GitGet(context.Background(), strings.NewReader(gitRequest("https", "git.example.org", "team/app.git")), &out)
			if err != nil {
				t.Fatalf("GitGet: %v", err)
			}
			if out.Len() != 0 {
				t.Errorf("output %q, want none", out.String())
			}
			l := log.String()
			if strings.Count(l, "\n") != 1 || !strings.HasSuffix(l, "\n") {
				t.Errorf("log %q, want one line", l)
			}
			if !strings.HasPrefix(l, "git-credential-oidc: ") || !strings.Contains(l, "run `oidc-auth login "+host+"`") {
				t.Errorf("log %q, want git-credential-oidc: … run `oidc-auth login %s`", l, host)
			}
		})
	}
}

func TestGitGetBrokenStore(t *testing.T) {
	t.Parallel()
	cfg := mustParseConfig(t, serverEntry("https://git.example.org/", tripwire(t)))
	for _, in := range []string{
		gitRequest("https", "git.example.org", "x"),   // a configured server
		gitRequest("https", "other.example.org", "x"), // a stored login, maybe
	} {
		var log syncBuffer
		h := &helper.Helper{Config: cfg, Store: &brokenStore{err: errors.New("keyring: the token file is corrupt")}, Log: &log, Name: "git-credential-oidc"}
		var out bytes.Buffer
		if err := h.GitGet(context.Background(), strings.NewReader(in), &out); err != nil {
			t.Errorf("GitGet: %v, want nil so that git asks its next helper", err)
		}
		if out.Len() != 0 {
			t.Errorf("output %q, want none", out.String())
		}
		if want := "git-credential-oidc: the token file is corrupt\n"; log.String() != want {
			t.Errorf("log %q, want %q", log.String(), want)
		}
	}
}

func TestGitGetBadRequest(t *testing.T) {
	t.Parallel()
	h := &helper.Helper{Config: &helper.Config{}, Store: newStore(t)}
	var out bytes.Buffer
	if err := h.GitGet(context.Background(), strings.NewReader("protocol=https\nhost\n\n"), &out); err == nil {
		t.Error("GitGet of a malformed request: nil error")
	}
	if out.Len() != 0 {
		t.Errorf("output %q, want none", out.String())
	}
}

// TestGitGetStoredLogin checks that a login to H, with no config, answers
// for URLs under H and for nothing else on H's host.
func TestGitGetStoredLogin(t *testing.T) {
	t.Parallel()
	base := tripwire(t) // http://127.0.0.1:PORT
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	hostport := u.Host
	tests := []struct {
		name     string
		login    string          // H
		server   *keyring.Server // nil: a record of another client
		protocol string
		path     string
		wantUser string // "": not answered
	}{
		{name: "repo under H", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "http", path: "api/app/repo.git", wantUser: "oauth2"},
		{name: "H itself", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "http", path: "api/app", wantUser: "oauth2"},
		{name: "recorded username", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app", Username: "jane"}, protocol: "http", path: "api/app/x", wantUser: "jane"},
		{name: "outside H's path", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "http", path: "api/other/repo.git"},
		{name: "prefix of H's last segment", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "http", path: "api/application/repo.git"},
		{name: "dot-dot out of H", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "http", path: "api/app/../other/repo.git"},
		{name: "no path", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "http"},
		{name: "https instead of http", login: base + "/api/app", server: &keyring.Server{Host: base + "/api/app"}, protocol: "https", path: "api/app/repo.git"},
		{name: "H without a path answers the host", login: base, server: &keyring.Server{Host: base}, protocol: "http", path: "any/repo.git", wantUser: "oauth2"},
		{name: "record of another client answers the host", login: base, protocol: "http", path: "any/repo.git", wantUser: "oauth2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			store := newStore(t)
			exp := putToken(t, store, tt.login, "tok-L", tt.server)
			var log syncBuffer
			h := &helper.Helper{Config: &helper.Config{}, Store: store, Log: &log, Name: "git-credential-oidc"}
			var out bytes.Buffer
			if err := h.GitGet(context.Background(), strings.NewReader(gitRequest(tt.protocol, hostport, tt.path)), &out); err != nil {
				t.Fatalf("GitGet: %v", err)
			}
			want := ""
			if tt.wantUser != "" {
				want = "username=" + tt.wantUser + "\npassword=tok-L\npassword_expiry_utc=" + strconv.FormatInt(exp, 10) + "\n"
			}
			if out.String() != want {
				t.Errorf("output %q, want %q", out.String(), want)
			}
			if log.String() != "" {
				t.Errorf("log %q, want none", log.String())
			}
		})
	}
}

// TestGitGetStoredLoginOtherHost checks that a login answers for its own
// host only, even when another host's request has the same path.
func TestGitGetStoredLoginOtherHost(t *testing.T) {
	t.Parallel()
	store := newStore(t)
	putToken(t, store, "https://auth.example.org/api/app", "tok-L", &keyring.Server{Host: "https://auth.example.org/api/app"})
	h := &helper.Helper{Config: &helper.Config{}, Store: store}
	for _, host := range []string{"auth.example.org.evil.com", "evil.com", "auth.example.org:8443", "AUTH.example.org:443"} {
		var out bytes.Buffer
		if err := h.GitGet(context.Background(), strings.NewReader(gitRequest("https", host, "api/app/x")), &out); err != nil {
			t.Fatal(err)
		}
		want := host == "AUTH.example.org:443"
		if got := out.Len() > 0; got != want {
			t.Errorf("host %s answered: %v (%q), want %v", host, got, out.String(), want)
		}
	}
}

// loginAt obtains a real token from srv with a device login approved at the
// first poll.
func loginAt(t *testing.T, srv *pyauthserver.Server) *flows.Token {
	t.Helper()
	srv.PlanDevice(pyauthserver.DevicePlan{})
	post := func(route string, form url.Values) []byte {
		resp, err := http.PostForm(srv.URL()+"/auth/v2/"+route, form)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("%s: %d %s %v", route, resp.StatusCode, body, err)
		}
		return body
	}
	post("device", nil)
	deviceCode, _ := srv.LastDevice()
	tok, err := flows.ParseToken(post("token", url.Values{"device-code": {deviceCode}}), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestGitErase checks that erasing the stored access token keeps the
// refresh token, so that the next get refreshes exactly once.
func TestGitErase(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	srv := pyauthserver.Start(t, pyauthserver.Options{})
	cfg := mustParseConfig(t, serverEntry("https://git.example.org/", srv.URL()))
	store := newStore(t)
	key, err := keyring.Key(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	first := loginAt(t, srv)
	if err := store.Put(ctx, key, &keyring.Record{Token: *first, Server: flows.Config{Host: srv.URL()}.Server()}); err != nil {
		t.Fatal(err)
	}
	var log syncBuffer
	h := &helper.Helper{Config: cfg, Store: store, Log: &log, Name: "git-credential-oidc"}
	get := func() string {
		t.Helper()
		var out bytes.Buffer
		if err := h.GitGet(ctx, strings.NewReader(gitRequest("https", "git.example.org", "repo.git")), &out); err != nil {
			t.Fatalf("GitGet: %v", err)
		}
		return out.String()
	}
	answer := func(tok string, exp int64) string {
		return "username=oauth2\npassword=" + tok + "\npassword_expiry_utc=" + strconv.FormatInt(exp, 10) + "\n"
	}

	if got, want := get(), answer(first.AccessToken, first.Expires); got != want {
		t.Fatalf("first get %q, want %q", got, want)
	}
	erase := "protocol=https\nhost=git.example.org\npath=repo.git\nusername=oauth2\npassword=" + first.AccessToken + "\n\n"
	if err := h.GitErase(ctx, strings.NewReader(erase)); err != nil {
		t.Fatalf("GitErase: %v", err)
	}
	rec, err := store.Get(ctx, key)
	if err != nil {
		t.Fatalf("the record is gone after erase: %v", err)
	}
	if rec.Token.AccessToken != "" || rec.Token.Valid(time.Now()) {
		t.Errorf("access token kept after erase: %+v", rec.Token)
	}
	if rec.Token.RefreshToken != first.RefreshToken || rec.Token.RefreshExpires != first.RefreshExpires {
		t.Errorf("refresh token %q (%d) after erase, want %q (%d)", rec.Token.RefreshToken, rec.Token.RefreshExpires, first.RefreshToken, first.RefreshExpires)
	}
	if rec.Server == nil || rec.Server.Host != srv.URL() {
		t.Errorf("server settings after erase: %+v", rec.Server)
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 0 {
		t.Fatalf("%d refreshes before the second get", n)
	}

	second := get()
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refresh requests, want 1", n)
	}
	rec, err = store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Token.AccessToken == first.AccessToken || !srv.Valid(rec.Token.AccessToken) {
		t.Errorf("stored token after the refresh %q, want a new valid one", rec.Token.AccessToken)
	}
	if want := answer(rec.Token.AccessToken, rec.Token.Expires); second != want {
		t.Errorf("second get %q, want %q", second, want)
	}
	if third := get(); third != second {
		t.Errorf("third get %q, want the stored %q", third, second)
	}
	if n := srv.Count(pyauthserver.CountTokenRefresh); n != 1 {
		t.Errorf("%d refresh requests after the third get, want 1", n)
	}
	if log.String() != "" {
		t.Errorf("log %q", log.String())
	}

	// Erasing the old token again changes nothing.
	before := readFile(t, store.Path)
	if err := h.GitErase(ctx, strings.NewReader(erase)); err != nil {
		t.Fatal(err)
	}
	if after := readFile(t, store.Path); !bytes.Equal(before, after) {
		t.Errorf("erase of a stale token changed the store:\n%s\n->\n%s", before, after)
	}
}

// TestGitEraseOthers checks that an erase that does not name the stored
// access token leaves the store as it was, byte for byte.
func TestGitEraseOthers(t *testing.T) {
	t.Parallel()
	host := tripwire(t)
	cfg := mustParseConfig(t, serverEntry("https://git.example.org/team/", host))
	tests := []struct{ name, in string }{
		{"other password", "protocol=https\nhost=git.example.org\npath=team/x\nusername=oauth2\npassword=not-ours\n\n"},
		{"prefix of the token", "protocol=https\nhost=git.example.org\npath=team/x\npassword=tok\n\n"},
		{"no password", "protocol=https\nhost=git.example.org\npath=team/x\nusername=oauth2\n\n"},
		{"empty password", "protocol=https\nhost=git.example.org\npath=team/x\npassword=\n\n"},
		{"our token for another URL", "protocol=https\nhost=git.example.org\npath=other/x\npassword=tok-A\n\n"},
		{"our token for another host", "protocol=https\nhost=evil.com\npath=team/x\npassword=tok-A\n\n"},
		{"our token without a path", "protocol=https\nhost=git.example.org\npassword=tok-A\n\n"},
		{"our token over http", "protocol=http\nhost=git.example.org\npath=team/x\npassword=tok-A\n\n"},
		{"nothing", "\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newStore(t)
			putToken(t, fs, host, "tok-A", nil)
			before := readFile(t, fs.Path)
			store := &recordingStore{TokenStore: fs}
			h := &helper.Helper{Config: cfg, Store: store}
			if err := h.GitErase(context.Background(), strings.NewReader(tt.in)); err != nil {
				t.Fatalf("GitErase: %v", err)
			}
			if after := readFile(t, fs.Path); !bytes.Equal(before, after) {
				t.Errorf("store changed:\n%s\n->\n%s", before, after)
			}
			if puts, removes := store.writes(); len(puts)+len(removes) > 0 {
				t.Errorf("store writes: put %v, remove %v", puts, removes)
			}
		})
	}
	t.Run("malformed request", func(t *testing.T) {
		t.Parallel()
		h := &helper.Helper{Config: cfg, Store: newStore(t)}
		if err := h.GitErase(context.Background(), strings.NewReader("password\n\n")); err == nil {
			t.Error("GitErase of a malformed request: nil error")
		}
	})
}

// TestGitEraseStoredLogin checks erase for a server that answers through a
// stored login rather than the config.
func TestGitEraseStoredLogin(t *testing.T) {
	t.Parallel()
	base := tripwire(t)
	u, _ := url.Parse(base)
	fs := newStore(t)
	putToken(t, fs, base+"/api", "tok-L", &keyring.Server{Host: base + "/api"})
	h := &helper.Helper{Config: &helper.Config{}, Store: fs}
	in := "protocol=http\nhost=" + u.Host + "\npath=api/repo.git\npassword=tok-L\n\n"
	if err := h.GitErase(context.Background(), strings.NewReader(in)); err != nil {
		t.Fatal(err)
	}
	key, _ := keyring.Key(base)
	rec, err := fs.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Token.AccessToken != "" || rec.Token.RefreshToken != "refresh-tok-L" || rec.Server == nil || rec.Server.Host != base+"/api" {
		t.Errorf("record after erase: %+v %+v", rec.Token, rec.Server)
	}
}

func TestDescribe(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		err  error
		want string
	}{
		{
			name: "login required",
			err:  &flows.LoginRequiredError{Host: "https://auth.example.org", Reason: "not logged in", Command: "oidc-auth login https://auth.example.org"},
			want: "no valid login for https://auth.example.org (not logged in); run `oidc-auth login https://auth.example.org`",
		},
		{name: "flows prefix", err: errors.New("flows: access denied"), want: "access denied"},
		{name: "keyring prefix", err: errors.New("keyring: locked"), want: "locked"},
		{name: "helper prefix", err: errors.New("helper: bad"), want: "bad"},
		{name: "prefix only", err: errors.New("helper: "), want: "helper: "},
		{name: "no prefix", err: os.ErrPermission, want: "permission denied"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := helper.Describe(tt.err); got != tt.want {
				t.Errorf("Describe = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestGitGetStoredLoginUsername checks that a login's recorded username
// is a default that git's username (from the URL) replaces: only a config
// entry names a username explicitly.
func TestGitGetStoredLoginUsername(t *testing.T) {
	t.Parallel()
	base := tripwire(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	store := newStore(t)
	exp := putToken(t, store, base, "tok-L", &keyring.Server{Host: base, Username: "jane"})
	h := &helper.Helper{Config: &helper.Config{}, Store: store}
	tests := []struct{ name, username, want string }{
		{"recorded username", "", "jane"},
		{"username from the URL", "alice", "alice"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var extra []string
			if tt.username != "" {
				extra = append(extra, "username="+tt.username)
			}
			var out bytes.Buffer
			if err := h.GitGet(context.Background(), strings.NewReader(gitRequest("http", u.Host, "repo.git", extra...)), &out); err != nil {
				t.Fatal(err)
			}
			if want := "username=" + tt.want + "\npassword=tok-L\npassword_expiry_utc=" + strconv.FormatInt(exp, 10) + "\n"; out.String() != want {
				t.Errorf("output %q, want %q", out.String(), want)
			}
		})
	}
}

var parseChallengesTests = []struct {
	name    string
	in      string
	want    []helper.Challenge
	wantErr string
}{
	{name: "empty", in: ""},
	{name: "only commas and spaces", in: " , ,\t,"},
	{name: "bare scheme", in: "Basic", want: []helper.Challenge{{Scheme: "Basic"}}},
	{name: "Basic realm", in: `Basic realm="git"`, want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "git"}}}},
	{
		name: "two challenges in one field",
		in:   `Bearer realm="x", Basic realm="y"`,
		want: []helper.Challenge{
			{Scheme: "Bearer", Params: map[string]string{"realm": "x"}},
			{Scheme: "Basic", Params: map[string]string{"realm": "y"}},
		},
	},
	{
		name: "RFC 9110 example",
		in:   `Basic realm="simple", Newauth realm="apps", type=1, title="Login to \"apps\""`,
		want: []helper.Challenge{
			{Scheme: "Basic", Params: map[string]string{"realm": "simple"}},
			{Scheme: "Newauth", Params: map[string]string{"realm": "apps", "type": "1", "title": `Login to "apps"`}},
		},
	},
	{
		name: "RFC 6750 error",
		in:   `Bearer realm="example", error="invalid_token", error_description="The access token expired"`,
		want: []helper.Challenge{{Scheme: "Bearer", Params: map[string]string{
			"realm": "example", "error": "invalid_token", "error_description": "The access token expired",
		}}},
	},
	{
		name: "commas and a scheme inside quotes",
		in:   `Basic realm="a, Bearer b=\"c\", d", charset="UTF-8"`,
		want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": `a, Bearer b="c", d`, "charset": "UTF-8"}}},
	},
	{
		name: "case-insensitive names, scheme kept as sent",
		in:   `bEaReR Realm="x", SCOPE=repo`,
		want: []helper.Challenge{{Scheme: "bEaReR", Params: map[string]string{"realm": "x", "scope": "repo"}}},
	},
	{
		name: "white space around equals signs and commas",
		in:   "Basic realm = \"x\" ,\tcharset\t=\tutf-8 , , Bearer",
		want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "x", "charset": "utf-8"}}, {Scheme: "Bearer"}},
	},
	{
		name: "token68",
		in:   "Negotiate YIIB+g/x==, Basic realm=\"y\"",
		want: []helper.Challenge{{Scheme: "Negotiate", Token68: "YIIB+g/x=="}, {Scheme: "Basic", Params: map[string]string{"realm": "y"}}},
	},
	{name: "token68 with one equals sign", in: "Negotiate abc=", want: []helper.Challenge{{Scheme: "Negotiate", Token68: "abc="}}},
	{name: "token68 that looks like a scheme", in: "Negotiate Bearer", want: []helper.Challenge{{Scheme: "Negotiate", Token68: "Bearer"}}},
	{
		name: "schemes without data",
		in:   "Negotiate, NTLM,Bearer",
		want: []helper.Challenge{{Scheme: "Negotiate"}, {Scheme: "NTLM"}, {Scheme: "Bearer"}},
	},
	{
		name: "unquoted URL value (Azure DevOps)",
		in:   `Bearer authorization_uri=https://login.example.org/abc?x=1, Basic realm="https://dev.example.org/"`,
		want: []helper.Challenge{
			{Scheme: "Bearer", Params: map[string]string{"authorization_uri": "https://login.example.org/abc?x=1"}},
			{Scheme: "Basic", Params: map[string]string{"realm": "https://dev.example.org/"}},
		},
	},
	{name: "repeated parameter keeps the first", in: `Basic realm="a", realm="b"`, want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "a"}}}},
	{name: "empty quoted value", in: `Basic realm=""`, want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": ""}}}},
	{name: "quoted pair of a backslash", in: `Basic realm="a\\b"`, want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": `a\b`}}}},
	{name: "obs-text in a quoted string", in: "Basic realm=\"caf\xc3\xa9\"", want: []helper.Challenge{{Scheme: "Basic", Params: map[string]string{"realm": "caf\xc3\xa9"}}}},
	{name: "parameter before any scheme", in: `realm="x"`, wantErr: "after the auth-scheme"},
	{name: "unterminated quoted string", in: `Bearer realm="x", Basic realm="y`, wantErr: "unterminated", want: []helper.Challenge{
		{Scheme: "Bearer", Params: map[string]string{"realm": "x"}}, {Scheme: "Basic"},
	}},
	{name: "backslash at the end", in: `Basic realm="y\`, wantErr: "unterminated", want: []helper.Challenge{{Scheme: "Basic"}}},
	{name: "missing comma", in: `Bearer realm="x" Basic realm="y"`, wantErr: "no comma", want: []helper.Challenge{{Scheme: "Bearer", Params: map[string]string{"realm": "x"}}}},
	{name: "control character", in: "Basic realm=\"a\x01b\"", wantErr: "control character", want: []helper.Challenge{{Scheme: "Basic"}}},
	{name: "no scheme", in: `"quoted"`, wantErr: "where an auth-scheme belongs"},
	{name: "token68 then junk", in: "Negotiate abc== def", wantErr: "no comma", want: []helper.Challenge{{Scheme: "Negotiate", Token68: "abc=="}}},
	{name: "scheme then a quote", in: `Basic "x"`, wantErr: "where a token68 or a parameter belongs", want: []helper.Challenge{{Scheme: "Basic"}}},
}

func TestParseChallenges(t *testing.T) {
	t.Parallel()
	for _, tt := range parseChallengesTests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := helper.ParseChallenges(tt.in)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("ParseChallenges: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.HasPrefix(err.Error(), "helper: ")):
				t.Errorf("error %v, want helper: …%s…", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("challenges\n%#v\nwant\n%#v", got, tt.want)
			}
		})
	}
}

// FuzzParseChallenges checks that no field value panics the parser, that
// every challenge it returns has a token for a scheme and lower-case token
// parameter names, and that what it accepts parses the same when written
// back with Challenge.String.
func FuzzParseChallenges(f *testing.F) {
	for _, tt := range parseChallengesTests {
		f.Add(tt.in)
	}
	f.Add(`Digest realm="x", nonce="abc", qop="auth,auth-int", algorithm=MD5`)
	f.Fuzz(func(t *testing.T, in string) {
		cs, err := helper.ParseChallenges(in)
		token := func(s string) bool {
			if s == "" {
				return false
			}
			for _, c := range []byte(s) {
				if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
					return false
				}
			}
			return true
		}
		for _, c := range cs {
			if !token(c.Scheme) {
				t.Errorf("scheme %q is no token", c.Scheme)
			}
			for n := range c.Params {
				if !token(n) || strings.ToLower(n) != n {
					t.Errorf("parameter name %q", n)
				}
			}
			if c.Params != nil && len(c.Params) == 0 {
				t.Errorf("empty, non-nil Params")
			}
		}
		if err != nil {
			return
		}
		var parts []string
		for _, c := range cs {
			parts = append(parts, c.String())
		}
		back := strings.Join(parts, ", ")
		again, err := helper.ParseChallenges(back)
		if err != nil {
			t.Fatalf("written back %q: %v", back, err)
		}
		if !reflect.DeepEqual(again, cs) {
			t.Errorf("%q written back as %q parses as %#v, want %#v", in, back, again, cs)
		}
	})
}

// TestGitEraseCredential checks erase requests of a git with
// capability[]=authtype, which names the rejected token as a credential of
// authtype Bearer or inside one of authtype Basic rather than as the
// password: ours is dropped with the refresh token kept, anything else
// leaves the store as it was.
func TestGitEraseCredential(t *testing.T) {
	t.Parallel()
	host := tripwire(t)
	cfg := mustParseConfig(t, serverEntry("https://git.example.org/team/", host))
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	erase := func(fields ...string) string {
		return gitRequest("https", "git.example.org", "team/app.git", fields...)
	}
	tests := []struct {
		name   string
		in     string
		erased bool
	}{
		{"Bearer credential", erase("capability[]=authtype", "authtype=Bearer", "credential=tok-A", "ephemeral=1"), true},
		{"bearer in lower case", erase("capability[]=authtype", "authtype=bearer", "credential=tok-A"), true},
		{"Basic credential", erase("capability[]=authtype", "authtype=Basic", "credential="+b64("oauth2:tok-A"), "ephemeral=1"), true},
		{"Basic credential of another user", erase("capability[]=authtype", "authtype=BASIC", "credential="+b64("alice:tok-A")), true},
		{"password, as before", erase("username=oauth2", "password=tok-A"), true},
		{"Bearer credential without the capability line", erase("authtype=Bearer", "credential=tok-A"), true},
		{"other Bearer credential", erase("capability[]=authtype", "authtype=Bearer", "credential=not-ours"), false},
		{"other Basic credential", erase("capability[]=authtype", "authtype=Basic", "credential="+b64("oauth2:not-ours")), false},
		{"Basic credential that is not base64", erase("capability[]=authtype", "authtype=Basic", "credential=tok-A"), false},
		{"Basic credential without a colon", erase("capability[]=authtype", "authtype=Basic", "credential="+b64("tok-A")), false},
		{"Basic credential of our token as the user", erase("capability[]=authtype", "authtype=Basic", "credential="+b64("tok-A:x")), false},
		{"credential of another scheme with our password", erase("capability[]=authtype", "authtype=Digest", "credential=tok-A", "password=tok-A"), false},
		{"credential without authtype", erase("capability[]=authtype", "credential=tok-A"), false},
		{"other credential with our password", erase("capability[]=authtype", "authtype=Bearer", "credential=not-ours", "password=tok-A"), false},
		{"Bearer credential for another URL", gitRequest("https", "git.example.org", "other/x", "authtype=Bearer", "credential=tok-A"), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newStore(t)
			putToken(t, fs, host, "tok-A", nil)
			before := readFile(t, fs.Path)
			store := &recordingStore{TokenStore: fs}
			h := &helper.Helper{Config: cfg, Store: store}
			if err := h.GitErase(context.Background(), strings.NewReader(tt.in)); err != nil {
				t.Fatalf("GitErase: %v", err)
			}
			key, _ := keyring.Key(host)
			rec, err := fs.Get(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if !tt.erased {
				if after := readFile(t, fs.Path); !bytes.Equal(before, after) {
					t.Errorf("store changed:\n%s\n->\n%s", before, after)
				}
				if puts, removes := store.writes(); len(puts)+len(removes) > 0 {
					t.Errorf("store writes: put %v, remove %v", puts, removes)
				}
				return
			}
			if rec.Token.AccessToken != "" || rec.Token.RefreshToken != "refresh-tok-A" {
				t.Errorf("after erase: access token %q, refresh token %q; want none and refresh-tok-A", rec.Token.AccessToken, rec.Token.RefreshToken)
			}
		})
	}
}

// TestGitGetEraseRoundTrip feeds each kind of answer back as the erase
// git sends when the server rejects it (git 2.47's fields and order), and
// checks that it drops the stored access token.
func TestGitGetEraseRoundTrip(t *testing.T) {
	t.Parallel()
	host := tripwire(t)
	cfg := mustParseConfig(t, serverEntry("https://git.example.org/team/", host))
	tests := []struct{ name, fields string }{
		{"password", ""},
		{"Basic credential", "capability[]=authtype\nwwwauth[]=Basic realm=\"git\"\n"},
		{"Bearer credential", "capability[]=authtype\nwwwauth[]=Bearer realm=\"git\"\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			fs := newStore(t)
			putToken(t, fs, host, "tok-A", nil)
			h := &helper.Helper{Config: cfg, Store: fs}
			var out bytes.Buffer
			req := tt.fields + "protocol=https\nhost=git.example.org\npath=team/app.git\n\n"
			if err := h.GitGet(context.Background(), strings.NewReader(req), &out); err != nil {
				t.Fatal(err)
			}
			answer, err := helper.ParseGitRequest(&out)
			if err != nil {
				t.Fatal(err)
			}
			// git's credential_write for erase, with what it learned.
			var b strings.Builder
			if answer.Capable("authtype") {
				b.WriteString("capability[]=authtype\n")
				for _, k := range []string{"authtype", "credential", "ephemeral"} {
					if v := answer.Get(k); v != "" {
						b.WriteString(k + "=" + v + "\n")
					}
				}
			}
			b.WriteString("protocol=https\nhost=git.example.org\npath=team/app.git\n")
			for _, k := range []string{"username", "password", "password_expiry_utc"} {
				if v := answer.Get(k); v != "" {
					b.WriteString(k + "=" + v + "\n")
				}
			}
			if err := h.GitErase(context.Background(), strings.NewReader(b.String()+"\n")); err != nil {
				t.Fatal(err)
			}
			key, _ := keyring.Key(host)
			rec, err := fs.Get(context.Background(), key)
			if err != nil {
				t.Fatal(err)
			}
			if rec.Token.AccessToken != "" {
				t.Errorf("erase of %q kept the access token", b.String())
			}
		})
	}
}

// ExampleParseChallenges reads a WWW-Authenticate field with two
// challenges, one of whose quoted parameters holds a comma.
func ExampleParseChallenges() {
	cs, err := helper.ParseChallenges(`Bearer realm="git, team", scope="repo", Basic realm="git"`)
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, c := range cs {
		fmt.Printf("%s %q\n", c.Scheme, c.Params)
	}
	// Output:
	// Bearer map["realm":"git, team" "scope":"repo"]
	// Basic map["realm":"git"]
}
