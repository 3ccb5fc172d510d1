package integration

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/oidc-auth/oidc-auth/integration/oidcop"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// wireSecretNames are the form fields, query parameters and JSON fields
// whose values are secrets, in either direction.
var wireSecretNames = []string{
	"access_token", "refresh_token", "id_token", "device_code", "device-code", "refresh-token",
	"code", "state", "nonce", "code_verifier", "client_secret", "token",
}

// wireRecorder wraps a test server and keeps every secret that crosses
// the wire either way: what the client sends (codes, verifiers, refresh
// tokens, client credentials, bearer tokens) and what the server answers
// (tokens, ID tokens, device codes, and the codes and states of
// redirects).
type wireRecorder struct {
	mu      sync.Mutex
	secrets map[string]string // value → what it is
}

func newWireRecorder() *wireRecorder { return &wireRecorder{secrets: map[string]string{}} }

func (w *wireRecorder) add(what string, values ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	keep := func(v, what string) {
		if _, ok := w.secrets[v]; !ok && len(v) >= 8 {
			w.secrets[v] = what // where it was seen first
		}
	}
	for _, v := range values {
		keep(v, what)
		// A py-oidc-auth state carries the PKCE verifier: "random|redirect_uri|verifier".
		if parts := strings.Split(v, "|"); len(parts) == 3 {
			keep(parts[0], what+" (random part)")
			keep(parts[2], what+" (verifier part)")
		}
	}
}

func (w *wireRecorder) values(q url.Values, what string) {
	for _, name := range wireSecretNames {
		w.add(what+" "+name, q[name]...)
	}
}

// all returns the recorded secrets and what each is.
func (w *wireRecorder) all() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.secrets))
	for k, v := range w.secrets {
		out[k] = v
	}
	return out
}

// wrap is the servers' Options.Wrap.
func (w *wireRecorder) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.values(r.URL.Query(), "query")
		if a := r.Header.Get("Authorization"); a != "" {
			if _, cred, ok := strings.Cut(a, " "); ok {
				w.add("Authorization", cred)
			}
		}
		if r.Form != nil {
			w.values(r.Form, "form")
		}
		if r.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
			r.Body = io.NopCloser(bytes.NewReader(body))
			if form, err := url.ParseQuery(string(body)); err == nil {
				w.values(form, "form")
			}
		}
		tee := &teeWriter{ResponseWriter: rw}
		next.ServeHTTP(tee, r)
		if loc := rw.Header().Get("Location"); loc != "" {
			if u, err := url.Parse(loc); err == nil {
				w.values(u.Query(), "redirect")
			}
		}
		if ct, _, _ := mime.ParseMediaType(rw.Header().Get("Content-Type")); ct == "application/json" {
			var m map[string]any
			if json.Unmarshal(tee.body.Bytes(), &m) == nil {
				for _, name := range wireSecretNames {
					if v, ok := m[name].(string); ok {
						w.add("answer "+name, v)
					}
				}
			}
		}
	})
}

// teeWriter keeps a copy of the body it writes.
type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (t *teeWriter) Write(b []byte) (int, error) {
	t.body.Write(b)
	return t.ResponseWriter.Write(b)
}

// debugRun is one run at the highest verbosity, and whether its stdout is
// the protocol's (a token or a helper's answer) or must hold no secret.
type debugRun struct {
	what     string
	r        result
	protocol bool
	// requests says the run talks to a server, so its debug output must
	// show request lines.
	requests bool
}

// TestRedactedDebugOutputOfEveryFlow runs every flow at the highest
// verbosity (OIDC_AUTH_DEBUG=2) against both test servers: the device and
// code flows and refresh at a py-oidc-auth server, the same at a standard
// provider with a public and a confidential client, both credential
// helpers, status and logout. No output but a token's own stdout holds any
// secret that crossed the wire, and the debug output shows the requests.
func TestRedactedDebugOutputOfEveryFlow(t *testing.T) {
	t.Parallel()
	wire := newWireRecorder()
	srv := startServer(t, pyauthserver.Options{Wrap: wire.wrap})
	op := oidcop.Start(t, oidcop.Options{Wrap: wire.wrap})
	op.AutoApproveDevices(true)
	u := newGitUser(t)
	debug := []string{"OIDC_AUTH_DEBUG=2"}
	var runs []debugRun
	run := func(what string, protocol, requests bool, args ...string) result {
		t.Helper()
		r := u.runEnv(debug, args...)
		mustSucceed(t, r)
		runs = append(runs, debugRun{what, r, protocol, requests})
		return r
	}
	helperRun := func(what, bin, stdin string, args ...string) result {
		t.Helper()
		r, err := u.execute(runTimeout, u.dir, stdin, u.sandbox.environ(append(u.gitVars(), debug...)...), bin, args...)
		if err != nil {
			t.Fatal(err)
		}
		mustSucceed(t, r)
		runs = append(runs, debugRun{what, r, true, true})
		return r
	}
	pyKey := storeKey(t, srv)
	publicArgs := issuerArgs(op)
	confArgs := []string{"--issuer", op.Issuer(), "--client-id", oidcop.ConfidentialClientID}
	confKey := "oidc+" + op.Issuer() + "?client_id=" + oidcop.ConfidentialClientID
	u.writeConfig(fmt.Sprintf(`[[server]]
match = "http://127.0.0.1:9/team/"
host = %q

[[server]]
match = "registry.example.invalid"
host = %q

[[server]]
match = "http://127.0.0.1:9/provider/"
issuer = %q
client_id = %q

[[server]]
match = "provider.registry.example.invalid"
issuer = %q
client_id = %q
client_secret = %q
`, srv.URL(), srv.URL(), op.Issuer(), oidcop.PublicClientID, op.Issuer(), oidcop.ConfidentialClientID, oidcop.ConfidentialSecret))

	// A py-oidc-auth server: device flow, code flow, refresh, helpers.
	srv.PlanDevice(pyauthserver.DevicePlan{})
	run("py device login", false, true, "login", "--flow", "device", "--timeout", loginTimeout, srv.URL())
	run("py code login", false, true, append([]string{"login", "--flow", "code", "--force", "--timeout", loginTimeout, srv.URL()}, portArgs(freePorts(t, 1))...)...)
	u.expireStoredAccess(pyKey)
	run("py refresh by token", true, true, "token", srv.URL())
	u.expireStoredAccess(pyKey)
	helperRun("py git get", gitCredentialBin, "protocol=http\nhost=127.0.0.1:9\npath=team/app.git\n\n", "get")
	u.expireStoredAccess(pyKey)
	helperRun("py docker get", dockerCredentialBin, "registry.example.invalid\n", "get")

	// A standard provider: device flow (public client), code flow
	// (confidential client), refresh of both, helpers.
	run("provider device login", false, true, append(append([]string{"login", "--flow", "device", "--timeout", "30s"}, publicArgs...), profileScopes...)...)
	run("provider code login", false, true, append(append([]string{"login", "--flow", "code", "--timeout", "30s"}, confArgs...), "--client-secret", oidcop.ConfidentialSecret)...)
	for _, k := range []struct {
		key  string
		args []string
	}{{issuerKey(op), publicArgs}, {confKey, confArgs}} {
		u.expireStoredAccess(k.key)
		run("provider refresh by token", true, true, append([]string{"token"}, k.args...)...)
	}
	u.expireStoredAccess(issuerKey(op))
	helperRun("provider git get", gitCredentialBin, "protocol=http\nhost=127.0.0.1:9\npath=provider/app.git\n\n", "get")
	u.expireStoredAccess(confKey)
	helperRun("provider docker get", dockerCredentialBin, "provider.registry.example.invalid\n", "get")

	// What is left: status, and the logouts (revocation at the provider).
	run("status", false, false, "status")
	u.readStore() // teaches the sandbox the last tokens, for its own check of every stderr
	run("provider logout", false, true, append([]string{"logout"}, publicArgs...)...)
	run("provider logout confidential", false, true, append([]string{"logout"}, confArgs...)...)
	run("py logout", false, false, "logout", srv.URL())

	// Every secret: what crossed the wire, what the py-oidc-auth server
	// says it issued, the client secret.
	secrets := wire.all()
	for _, v := range srv.Issued() {
		if _, ok := secrets[v]; !ok && len(v) >= 8 {
			secrets[v] = "issued by the py-oidc-auth server"
		}
	}
	// The test provider's client secret shares its first characters with
	// its client id, so it is looked for whole only (see findSecret).
	secrets[oidcop.ConfidentialSecret] = wholeOnly + "client secret"
	kinds := map[string]int{}
	for _, what := range secrets {
		kinds[what]++
	}
	for _, want := range []string{"answer access_token", "answer refresh_token", "answer id_token", "answer device_code", "redirect code", "redirect state", "redirect state (verifier part)", "form code_verifier", "query nonce", "Authorization"} {
		if kinds[want] == 0 {
			t.Errorf("no secret of the kind %q was recorded; the test would prove little (kinds: %v)", want, kinds)
		}
	}

	var requestLines int
	for _, dr := range runs {
		stdout := dr.r.stdout
		if dr.protocol {
			// Each protocol run refreshed: its stdout holds the new access
			// token, and nothing else that is secret.
			if token := protocolToken(t, dr, secrets); token != "" {
				stdout = strings.ReplaceAll(stdout, token, "")
			}
		}
		for _, out := range []struct{ name, text string }{{"stdout", stdout}, {"stderr", dr.r.stderr}} {
			if leak, what := findSecret(out.text, secrets); leak != "" {
				t.Errorf("%s: %s holds a secret (%s, %.6s…):\n%s", dr.what, out.name, what, leak, out.text)
			}
		}
		if !strings.Contains(dr.r.stderr, ": debug +") {
			t.Errorf("%s: no debug output at OIDC_AUTH_DEBUG=2:\n%s", dr.what, dr.r.stderr)
		}
		if n := strings.Count(dr.r.stderr, " → "); dr.requests && n == 0 {
			t.Errorf("%s: the debug output shows no request:\n%s", dr.what, dr.r.stderr)
		} else {
			requestLines += n
		}
		if dr.requests && !strings.Contains(dr.r.stderr, "answer fields:") {
			t.Errorf("%s: -vv shows no answer's field names:\n%s", dr.what, dr.r.stderr)
		}
	}
	t.Logf("%d runs, %d request lines, %d secrets looked for (%d kinds)", len(runs), requestLines, len(secrets), len(kinds))
	if testing.Verbose() {
		t.Logf("the py code login's debug output:\n%s", runs[1].r.stderr)
	}
}

// protocolToken is the access token a protocol command's stdout must hold:
// the one answer on the wire that stdout holds whole.
func protocolToken(t *testing.T, dr debugRun, secrets map[string]string) string {
	t.Helper()
	var found []string
	for v, what := range secrets {
		if what == "answer access_token" && strings.Contains(dr.r.stdout, v) {
			found = append(found, v)
		}
	}
	if len(found) != 1 {
		t.Errorf("%s: stdout holds %d access tokens, want exactly one", dr.what, len(found))
		return ""
	}
	return found[0]
}

// wholeOnly leads what a secret is when findSecret is to look for it whole
// only.
const wholeOnly = "(whole) "

// findSecret returns a secret that text holds, whole or as its first or
// last 12 characters, and what it is; "" when there is none. Shorter
// secrets count only whole.
func findSecret(text string, secrets map[string]string) (string, string) {
	keys := make([]string, 0, len(secrets))
	for v := range secrets {
		keys = append(keys, v)
	}
	sort.Strings(keys)
	for _, v := range keys {
		probes := []string{v}
		if len(v) >= 24 && !strings.HasPrefix(secrets[v], wholeOnly) {
			probes = append(probes, v[:12], v[len(v)-12:])
		}
		for _, p := range probes {
			if strings.Contains(text, p) {
				return v, secrets[v] + " at " + strconv.Itoa(strings.Index(text, p))
			}
		}
	}
	return "", ""
}

// TestKeychainWarningOncePerReason runs one process after another with no
// usable keychain: the fallback warning shows in the first login only, not
// in the next login or refresh, and once more when the keychain fails for
// a new reason (a session bus address where no bus listens).
func TestKeychainWarningOncePerReason(t *testing.T) {
	t.Parallel()
	requireDBusKeychain(t)
	srv := startServer(t, pyauthserver.Options{})
	s := newSandbox(t)
	warnings := func(r result) int {
		return strings.Count(r.stderr, "warning: the OS keychain cannot be used")
	}
	noBus := autoStore
	deadBus := []string{"OIDC_AUTH_STORE=", "DBUS_SESSION_BUS_ADDRESS=unix:path=" + s.dir + "/no-bus"}
	for i, step := range []struct {
		what string
		env  []string
		args []string
		want int
	}{
		{"first login", noBus, []string{"login", "--flow", "device", "--timeout", loginTimeout, srv.URL()}, 1},
		{"second login", noBus, []string{"login", "--force", "--flow", "device", "--timeout", loginTimeout, srv.URL()}, 0},
		{"refresh", noBus, []string{"token", srv.URL()}, 0},
		{"new reason", deadBus, []string{"login", "--force", "--flow", "device", "--timeout", loginTimeout, srv.URL()}, 1},
		{"new reason again", deadBus, []string{"token", srv.URL()}, 0},
	} {
		srv.PlanDevice(pyauthserver.DevicePlan{})
		if step.args[0] == "token" {
			s.expireStoredAccess(storeKey(t, srv))
		}
		r := s.runEnv(step.env, step.args...)
		mustSucceed(t, r)
		if n := warnings(r); n != step.want {
			t.Errorf("step %d, %s: %d warnings, want %d:\n%s", i+1, step.what, n, step.want, r.stderr)
		}
	}
	st := s.runEnv(noBus, "status")
	mustSucceed(t, st)
	if !strings.Contains(st.stdout, " file ") {
		t.Errorf("status does not show the login in the file:\n%s", st.stdout)
	}
}
