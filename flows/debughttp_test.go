package flows

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a bytes.Buffer that concurrent writers (debug lines,
// the countdown's goroutine) may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// countingTransport is a caller's own transport, which the flows must
// wrap rather than replace.
type countingTransport struct {
	mu sync.Mutex
	n  int
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return http.DefaultTransport.RoundTrip(r)
}

// TestDebugShowsProviderRequestsWithoutSecrets runs the code flow, the
// device flow and a refresh of a confidential client at a standard
// provider at the highest verbosity, through a caller's own HTTP client:
// every request of go-oidc and x/oauth2 shows with its status, header names
// and answer fields, and nothing the client sent or received as a secret
// appears.
func TestDebugShowsProviderRequestsWithoutSecrets(t *testing.T) {
	t.Parallel()
	for _, flow := range []string{"code", "device", "refresh"} {
		t.Run(flow, func(t *testing.T) {
			t.Parallel()
			op := newFakeOP(t)
			op.clientSecret = opSecret
			op.set(func(op *fakeOP) { op.rotate = true })
			cfg := op.config()
			own := &countingTransport{}
			cfg.HTTPClient = &http.Client{Transport: own}
			cfg.CacheDir = t.TempDir()
			var out lockedBuffer
			ctx := WithDebug(context.Background(), &out, DebugDetails, "oidc-auth")
			b := &followBrowser{}
			var tok *Token
			var err error
			switch flow {
			case "code":
				tok, err = (&CodeFlow{Config: cfg, Browser: b.open}).Run(ctx)
				b.wg.Wait()
			case "device":
				tok, err = (&DeviceFlow{Config: cfg}).Run(ctx)
			case "refresh":
				tok, err = Refresh(ctx, cfg, &Token{AccessToken: "old-access-0123456789", RefreshToken: op.mintRefresh(), RefreshExpires: time.Now().Add(time.Hour).Unix()})
			}
			if err != nil {
				t.Fatal(err)
			}
			got := out.String()
			t.Logf("debug output:\n%s", got)
			own.mu.Lock()
			if own.n == 0 {
				t.Error("the caller's transport was not used")
			}
			own.mu.Unlock()
			wants := []string{
				"GET " + op.issuer + "/.well-known/openid-configuration → 200 OK (",
				"POST " + op.endpoint("token") + " → 200 OK (",
				"answer fields: access_token",
				`request headers: Authorization, Content-Type="application/x-www-form-urlencoded"`,
				`Content-Type="application/json`,
				"discovery of " + op.issuer + ": not cached in " + cfg.CacheDir,
			}
			if flow == "device" {
				wants = append(wants, "POST "+op.endpoint("device")+" → 200 OK (")
			}
			if flow != "refresh" {
				wants = append(wants, "ID token from "+op.issuer+": verified (signature, issuer, audience, expiry")
			}
			for _, want := range wants {
				if !strings.Contains(got, want) {
					t.Errorf("debug output lacks %q", want)
				}
			}
			secrets := []string{opSecret, tok.AccessToken, tok.RefreshToken, tok.IDToken, "old-access-0123456789"}
			for _, name := range []string{"token", "device"} {
				for _, f := range op.formsOf(name) {
					for k, vs := range f {
						if !publicParams[k] {
							secrets = append(secrets, vs...)
						}
					}
				}
				for _, a := range op.authsOf(name) {
					if _, cred, ok := strings.Cut(a, " "); ok {
						secrets = append(secrets, cred)
					}
				}
			}
			for _, f := range op.formsOf("authorize") {
				secrets = append(secrets, f.Get("state"), f.Get("nonce"))
			}
			n := 0
			for _, s := range secrets {
				if len(s) < minSecretRun {
					continue
				}
				n++
				if strings.Contains(got, s) {
					t.Errorf("debug output holds the secret %.6s…", s)
				}
			}
			if n < 4 {
				t.Errorf("only %d secrets to look for; the test would prove nothing", n)
			}
		})
	}
}

// TestDebugRequestLineOfAFailure shows a failed request by its class,
// without the URL's query.
func TestDebugRequestLineOfAFailure(t *testing.T) {
	t.Parallel()
	var out lockedBuffer
	ctx := WithDebug(context.Background(), &out, DebugDecisions, "oidc-auth")
	u := closedURL(t, "/auth/v2/token")
	_, err := Refresh(ctx, Config{Host: strings.TrimSuffix(u, "/auth/v2/token")}, &Token{AccessToken: "a", RefreshToken: "refresh-0123456789"})
	if err == nil {
		t.Fatal("refresh at a closed port succeeded")
	}
	if got := out.String(); !strings.Contains(got, "POST "+u+" → failed: connection refused (") {
		t.Errorf("debug output:\n%s", got)
	}
}

// TestDebugHidesCookiesAndCredentials shows header names but never the
// values of credentials or cookies, at the highest verbosity.
func TestDebugHidesCookiesAndCredentials(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "session", Value: "cookie-value-0123456789"})
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(`{"access_token":"access-value-0123456789","refresh_token":"refresh-value-0123456789","expires_in":60}`))
	}))
	t.Cleanup(srv.Close)
	var out lockedBuffer
	ctx := WithDebug(context.Background(), &out, DebugDetails, "oidc-auth")
	tok, err := Refresh(ctx, Config{Host: srv.URL}, &Token{AccessToken: "old-value-0123456789", RefreshToken: "sent-value-0123456789"})
	if err != nil || tok.AccessToken != "access-value-0123456789" {
		t.Fatalf("refresh: %+v, %v", tok, err)
	}
	got := out.String()
	for _, want := range []string{"Set-Cookie", "answer fields: access_token, expires_in, refresh_token", "refresh: got an access token, a refresh token"} {
		if !strings.Contains(got, want) {
			t.Errorf("debug output lacks %q:\n%s", want, got)
		}
	}
	for _, leak := range []string{"cookie-value", "access-value", "refresh-value", "old-value", "sent-value"} {
		if strings.Contains(got, leak) {
			t.Errorf("debug output holds %q:\n%s", leak, got)
		}
	}
}
