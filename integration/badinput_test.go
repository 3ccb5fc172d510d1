package integration

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// streamBody answers 200 with n bytes of a JSON-looking body, written in
// chunks so that a client that stops reading ends the handler.
func streamBody(n int) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		chunk := bytes.Repeat([]byte(" "), 64<<10)
		w.Write([]byte("{\"device_code\":\""))
		for sent := 0; sent < n; sent += len(chunk) {
			if _, err := w.Write(chunk); err != nil {
				return
			}
		}
	}
}

// answer is a handler that writes a fixed answer.
func answer(status int, contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		w.Write([]byte(body))
	}
}

// TestBadServers logs in to servers that answer badly. Every case must
// fail with exit 1 and one "oidc-auth: " line that says what is wrong, show
// no token, and leave the store (holding another server's login) as it was.
func TestBadServers(t *testing.T) {
	t.Parallel()
	good := startServer(t, pyauthserver.Options{})

	const nginxPage = `<!DOCTYPE html>
<html><head><title>Welcome to nginx!</title></head>
<body><h1>Welcome to nginx!</h1><p>If you see this page, the nginx web server is successfully installed.</p></body></html>
`
	tests := []struct {
		name string
		// host returns the URL to log in to.
		host func(t *testing.T) string
		// extra are arguments after the host.
		extra []string
		want  []string // the error line contains all of these
		// deviceShown: the device flow started, so the person's
		// instructions precede the error line.
		deviceShown bool
		maxTime     time.Duration
	}{
		{
			name:    "unreachable",
			host:    func(t *testing.T) string { return "http://127.0.0.1:" + strconv.Itoa(closedPort(t)) + "/api/app" },
			want:    []string{"cannot reach"},
			maxTime: 5 * time.Second,
		},
		{
			name: "untrusted TLS certificate",
			host: func(t *testing.T) string {
				return pyauthserver.StartTLS(t, pyauthserver.Options{Prefix: "/api/app"}).URL()
			},
			want:    []string{"certificate", "TLS"},
			maxTime: 5 * time.Second,
		},
		{
			name: "https URL of a plain HTTP server",
			host: func(t *testing.T) string {
				return strings.Replace(startServer(t, pyauthserver.Options{}).URL(), "http://", "https://", 1)
			},
			want:    []string{"does not speak TLS"},
			maxTime: 5 * time.Second,
		},
		{
			name: "HTML page instead of JSON",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteDevice, answer(200, "text/html; charset=utf-8", nginxPage))
				return srv.URL()
			},
			want:    []string{"instead of JSON", "Welcome to nginx!"},
			maxTime: 5 * time.Second,
		},
		{
			name: "device answer without user_code",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteDevice, answer(200, "application/json", `{"device_code":"x"}`))
				return srv.URL()
			},
			want:    []string{"user_code"},
			maxTime: 5 * time.Second,
		},
		{
			name: "device answer without expires_in",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteDevice, answer(200, "application/json",
					`{"device_code":"x","user_code":"ABCD-EFGH","verification_uri":"http://127.0.0.1:1/v","interval":1}`))
				return srv.URL()
			},
			want:    []string{"expires_in"},
			maxTime: 5 * time.Second,
		},
		{
			name: "huge device answer",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteDevice, streamBody(5<<20))
				return srv.URL()
			},
			want:    []string{"more than"},
			maxTime: 5 * time.Second,
		},
		{
			name: "huge token answer",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteToken, streamBody(5<<20))
				return srv.URL()
			},
			want:        []string{"more than"},
			deviceShown: true,
			maxTime:     5 * time.Second,
		},
		{
			name: "plain text instead of JSON",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteDevice, answer(200, "text/plain", "OK"))
				return srv.URL()
			},
			want:    []string{"text/plain instead of JSON"},
			maxTime: 5 * time.Second,
		},
		{
			name: "server error with detail",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteToken, func(w http.ResponseWriter, r *http.Request) {
					pyauthserver.WriteDetail(w, 502, "Failed to contact OIDC endpoint: connection refused")
				})
				return srv.URL()
			},
			want:        []string{"502", "Failed to contact OIDC endpoint"},
			deviceShown: true,
			maxTime:     5 * time.Second,
		},
		{
			name: "code flow: token route answers HTML",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteToken, answer(200, "text/html", nginxPage))
				return srv.URL()
			},
			extra:   []string{"--flow", "code"},
			want:    []string{"instead of JSON"},
			maxTime: 10 * time.Second,
		},
		{
			name: "code flow: callback without verifier in state",
			host: func(t *testing.T) string {
				srv := startServer(t, pyauthserver.Options{})
				srv.Override(pyauthserver.RouteLogin, func(w http.ResponseWriter, r *http.Request) {
					http.Redirect(w, r, r.URL.Query().Get("redirect_uri")+"?code=c&state=nopipe", http.StatusFound)
				})
				return srv.URL()
			},
			extra:   []string{"--flow", "code"},
			want:    []string{"code verifier"},
			maxTime: 10 * time.Second,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := newSandbox(t)
			s.login(good)
			before := s.storeBytes()
			host := tt.host(t)
			args := append([]string{"login", "--force", host, "--timeout", loginTimeout}, tt.extra...)
			if len(tt.extra) > 0 {
				args = append(args, portArgs(freePorts(t, 1))...)
			}
			r := s.run(args...)
			var msg string
			if tt.deviceShown || len(tt.extra) > 0 {
				msg = failureLine(t, r, 1)
			} else {
				msg = onlyLine(t, r, 1)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error line %q lacks %q", msg, w)
				}
			}
			checkQuick(t, s, r, tt.maxTime)
			if after := s.storeBytes(); !bytes.Equal(after, before) {
				t.Errorf("store changed:\n%s\nwant:\n%s", after, before)
			}
		})
	}
}

// TestCorruptStore checks that a token file that is not JSON is reported
// with its path and never overwritten.
func TestCorruptStore(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	path := s.storePath()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	corrupt := []byte("{not json")
	if err := os.WriteFile(path, corrupt, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"token", srv.URL()},
		{"login", srv.URL(), "--timeout", loginTimeout},
		{"login", "--force", srv.URL(), "--timeout", loginTimeout},
		{"status"},
		{"logout", srv.URL()},
		{"logout", "--all"},
	} {
		srv.PlanDevice(pyauthserver.DevicePlan{})
		r := s.run(args...)
		msg := failureLine(t, r, 1)
		if !strings.Contains(msg, path) {
			t.Errorf("%q: error line %q does not name the file %s", args, msg, path)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, corrupt) {
			t.Fatalf("%q changed the corrupt store to %q", args, got)
		}
	}
	// No login starts when its token could not be stored.
	if n := srv.Count(pyauthserver.RouteDevice); n != 0 {
		t.Errorf("%d device logins started against an unreadable store", n)
	}
}

// TestBadInputCommandLines gives oidc-auth command lines people get
// wrong. Each ends with exit 2 and one line that says what is wrong and
// where to read on: no stack of prefixes, none of the flag package's or
// urfave/cli's own wording, nothing on stdout, no request, no store.
func TestBadInputCommandLines(t *testing.T) {
	t.Parallel()
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	host := srv.URL()
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"lgoin", host}, "did you mean `oidc-auth login`?"},
		{[]string{"login", host, "--forse"}, "unknown flag --forse (did you mean --force?)"},
		{[]string{"login", "--port", "99999999999999999999", host}, `--port: "99999999999999999999" is not a valid value`},
		{[]string{"login", host, "--timeout"}, "--timeout needs a value"},
		{[]string{"login", ""}, "HOST is empty"},
		{[]string{"-x"}, "unknown flag -x"},
		{[]string{"status", "--jsn"}, "(did you mean --json?)"},
		{[]string{"help", "frobnicate"}, `unknown command "frobnicate"; see`},
		{[]string{"help", "login", "token"}, "help takes one COMMAND"},
		{[]string{"setup", "frob"}, `unknown command "frob"`},
		{[]string{"setup", "--bogus"}, "unknown flag --bogus"},
		{[]string{"setup", "git"}, "setup git needs URL and --host"},
		{[]string{"setup", "git", "ftp://git.example.org/", "--host", host}, "is not a URL like https://"},
		{[]string{"setup", "git", "https://git.example.org/", "--host", host, "--issuer", host}, "either --host or --issuer"},
		{[]string{"setup", "docker", "--issuer", host}, "setup docker needs REGISTRY and --client-id"},
		{[]string{"setup", "docker", "https://registry.example.org", "--host", host}, "is not a registry host"},
		{[]string{"completion"}, "completion needs one SHELL"},
		{[]string{"completion", "bash", "zsh"}, "completion takes one SHELL, got 2 arguments"},
		{[]string{"completion", "tcsh"}, `completion knows no shell "tcsh"`},
		{[]string{"version", "now"}, "version takes no arguments"},
		{[]string{"--store", "bogus", "status"}, `"bogus" is not a store`},
	} {
		r := s.run(tt.args...)
		msg := onlyLine(t, r, 2)
		if !strings.Contains(msg, tt.want) {
			t.Errorf("%q: %q lacks %q", tt.args, msg, tt.want)
		}
		if !regexp.MustCompile("; see `oidc-auth [a-z ]*--help`$").MatchString(msg) {
			t.Errorf("%q: %q does not end by pointing to the help", tt.args, msg)
		}
		for _, foreign := range []string{"flag provided but not defined", "Incorrect Usage", "No help topic", "invalid value", "parse error", "strconv.", "?;", "help requested"} {
			if strings.Contains(msg, foreign) {
				t.Errorf("%q: %q says %q", tt.args, msg, foreign)
			}
		}
	}
	if got := requestCounts(srv); len(got) != 0 {
		t.Errorf("bad command lines made requests: %v", got)
	}
	if b := s.storeBytes(); b != nil {
		t.Errorf("bad command lines wrote the store:\n%s", b)
	}
}
