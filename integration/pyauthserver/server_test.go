package pyauthserver_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// answer is a response reduced to what the tests compare.
type answer struct {
	status int
	body   string
	header http.Header
}

func do(t *testing.T, c *http.Client, req *http.Request) answer {
	t.Helper()
	resp, err := c.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return answer{resp.StatusCode, string(b), resp.Header}
}

func postForm(t *testing.T, c *http.Client, u string, form url.Values) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return do(t, c, req)
}

func get(t *testing.T, c *http.Client, u string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	return do(t, c, req)
}

// noRedirect is a client that returns redirects instead of following them.
func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// deviceStart is the device route's answer.
type deviceStart struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int    `json:"expires_in"`
	Interval                int    `json:"interval"`
}

func startDevice(t *testing.T, s *pyauthserver.Server) deviceStart {
	t.Helper()
	a := postForm(t, s.Client(), s.URL()+"/auth/v2/device", nil)
	if a.status != http.StatusOK {
		t.Fatalf("device start: %d %s", a.status, a.body)
	}
	var d deviceStart
	if err := json.Unmarshal([]byte(a.body), &d); err != nil {
		t.Fatalf("device start body %q: %v", a.body, err)
	}
	return d
}

func poll(t *testing.T, s *pyauthserver.Server, deviceCode string) answer {
	t.Helper()
	return postForm(t, s.Client(), s.URL()+"/auth/v2/token", url.Values{"device-code": {deviceCode}})
}

func decodeTokens(t *testing.T, body string) pyauthserver.TokenResponse {
	t.Helper()
	var tr pyauthserver.TokenResponse
	if err := json.Unmarshal([]byte(body), &tr); err != nil {
		t.Fatalf("token body %q: %v", body, err)
	}
	if tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("token body %q lacks tokens", body)
	}
	return tr
}

// deviceTokens runs a device flow with an immediate approval.
func deviceTokens(t *testing.T, s *pyauthserver.Server) pyauthserver.TokenResponse {
	t.Helper()
	s.PlanDevice(pyauthserver.DevicePlan{})
	d := startDevice(t, s)
	a := poll(t, s, d.DeviceCode)
	if a.status != http.StatusOK {
		t.Fatalf("device poll: %d %s", a.status, a.body)
	}
	return decodeTokens(t, a.body)
}

func upstream(code, desc string) string {
	inner := `{"error":"` + code + `"`
	if desc != "" {
		inner += `,"error_description":"` + desc + `"`
	}
	b, _ := json.Marshal(map[string]string{"detail": "Upstream OIDC error: " + inner + "}"})
	return string(b)
}

func TestUpstreamBodyExact(t *testing.T) {
	t.Parallel()
	want := `{"detail":"Upstream OIDC error: {\"error\":\"authorization_pending\"}"}`
	if got := upstream("authorization_pending", ""); got != want {
		t.Fatalf("helper: got %s, want %s", got, want)
	}
	rec := httptest.NewRecorder()
	pyauthserver.WriteUpstreamError(rec, http.StatusBadRequest, "authorization_pending", "")
	if rec.Code != http.StatusBadRequest || rec.Body.String() != want {
		t.Fatalf("WriteUpstreamError: %d %s, want 400 %s", rec.Code, rec.Body, want)
	}
	rec = httptest.NewRecorder()
	pyauthserver.WriteRFCError(rec, http.StatusBadRequest, "slow_down", "")
	if got := rec.Body.String(); got != `{"error":"slow_down"}` {
		t.Fatalf("WriteRFCError: %s", got)
	}
	rec = httptest.NewRecorder()
	pyauthserver.WriteRFCError(rec, http.StatusUnauthorized, "invalid_grant", "gone <now>")
	if got := rec.Body.String(); got != `{"error":"invalid_grant","error_description":"gone <now>"}` {
		t.Fatalf("WriteRFCError with description: %s", got)
	}
}

func TestDevicePlans(t *testing.T) {
	t.Parallel()
	pending := upstream("authorization_pending", "")
	slow := upstream("slow_down", "")
	tests := []struct {
		name string
		plan *pyauthserver.DevicePlan // nil: the default plan
		want []string                 // poll bodies; "TOKENS" for success
	}{
		{"default", nil, []string{pending, "TOKENS"}},
		{"immediate", &pyauthserver.DevicePlan{}, []string{"TOKENS"}},
		{"pending then approve", &pyauthserver.DevicePlan{Pending: 3}, []string{pending, pending, pending, "TOKENS"}},
		{"slow down first", &pyauthserver.DevicePlan{Pending: 3, SlowDown: 2}, []string{slow, slow, pending, "TOKENS"}},
		{"slow down raises pending", &pyauthserver.DevicePlan{SlowDown: 1}, []string{slow, "TOKENS"}},
		{"deny", &pyauthserver.DevicePlan{Pending: 1, Outcome: pyauthserver.Deny}, []string{
			pending,
			upstream("access_denied", "The end-user denied the authorization request"),
			upstream("access_denied", "The end-user denied the authorization request"),
		}},
		{"expire", &pyauthserver.DevicePlan{Outcome: pyauthserver.Expire}, []string{
			upstream("expired_token", "Device code is expired"),
		}},
		{"unknown", &pyauthserver.DevicePlan{Pending: 1, Outcome: pyauthserver.Unknown}, []string{
			pending,
			upstream("invalid_grant", "Device code not valid"),
			upstream("invalid_grant", "Device code not valid"),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pyauthserver.Start(t, pyauthserver.Options{Interval: 1})
			if tt.plan != nil {
				s.PlanDevice(*tt.plan)
			}
			d := startDevice(t, s)
			var tokens string
			for i, want := range tt.want {
				a := poll(t, s, d.DeviceCode)
				if want == "TOKENS" {
					if a.status != http.StatusOK {
						t.Fatalf("poll %d: %d %s, want tokens", i, a.status, a.body)
					}
					decodeTokens(t, a.body)
					tokens = a.body
					continue
				}
				if a.status != http.StatusBadRequest || a.body != want {
					t.Fatalf("poll %d: %d %s, want 400 %s", i, a.status, a.body, want)
				}
				if ct := a.header.Get("Content-Type"); ct != "application/json" {
					t.Fatalf("poll %d: Content-Type %q", i, ct)
				}
			}
			if tokens != "" {
				again := poll(t, s, d.DeviceCode)
				if again.status != http.StatusOK || again.body != tokens {
					t.Fatalf("repeat poll after success: %d %s, want the same tokens %s", again.status, again.body, tokens)
				}
				tr := decodeTokens(t, tokens)
				if !s.Valid(tr.AccessToken) {
					t.Fatal("issued access token not Valid")
				}
			}
			if got, want := len(s.PollTimes(d.DeviceCode)), s.Count(pyauthserver.CountTokenDevice); got != want {
				t.Fatalf("PollTimes has %d entries, Count(token:device) = %d", got, want)
			}
		})
	}
}

func TestDeviceStart(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{Interval: 1, DeviceExpiresIn: 42})
	d := startDevice(t, s)
	if d.DeviceCode == "" || d.UserCode == "" || d.ExpiresIn != 42 || d.Interval != 1 {
		t.Fatalf("device start %+v", d)
	}
	if d.VerificationURI != s.URL()+"/idp/device" {
		t.Fatalf("verification_uri %q", d.VerificationURI)
	}
	if d.VerificationURIComplete != d.VerificationURI+"?user_code="+url.QueryEscape(d.UserCode) {
		t.Fatalf("verification_uri_complete %q", d.VerificationURIComplete)
	}
	dc, uc := s.LastDevice()
	if dc != d.DeviceCode || uc != d.UserCode {
		t.Fatalf("LastDevice() = %q, %q", dc, uc)
	}
	// Defaults.
	s2 := pyauthserver.Start(t, pyauthserver.Options{})
	d2 := startDevice(t, s2)
	if d2.ExpiresIn != 600 || d2.Interval != 5 {
		t.Fatalf("defaults: expires_in %d interval %d", d2.ExpiresIn, d2.Interval)
	}
}

func TestDeviceExpiresByTime(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := pyauthserver.Start(t, pyauthserver.Options{DeviceExpiresIn: 10, Now: clock.Now})
	s.PlanDevice(pyauthserver.DevicePlan{Pending: 100})
	d := startDevice(t, s)
	if a := poll(t, s, d.DeviceCode); a.body != upstream("authorization_pending", "") {
		t.Fatalf("first poll: %d %s", a.status, a.body)
	}
	clock.Add(10 * time.Second)
	if a := poll(t, s, d.DeviceCode); a.status != http.StatusBadRequest || a.body != upstream("expired_token", "Device code is expired") {
		t.Fatalf("poll after expires_in: %d %s", a.status, a.body)
	}
}

func TestDeviceUnknownCode(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{})
	a := poll(t, s, "no-such-code")
	if a.status != http.StatusBadRequest || a.body != upstream("invalid_grant", "Device code not valid") {
		t.Fatalf("unknown device code: %d %s", a.status, a.body)
	}
}

func TestDeviceManualApproval(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{})
	s.PlanDevice(pyauthserver.DevicePlan{Manual: true})
	s.PlanDevice(pyauthserver.DevicePlan{Manual: true})
	d := startDevice(t, s)
	for range 3 {
		if a := poll(t, s, d.DeviceCode); a.body != upstream("authorization_pending", "") {
			t.Fatalf("poll before approval: %d %s", a.status, a.body)
		}
	}
	page := get(t, s.Client(), d.VerificationURIComplete, nil)
	if page.status != http.StatusOK || !strings.Contains(page.body, "approved") ||
		!strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("verification page: %d %q %q", page.status, page.header.Get("Content-Type"), page.body)
	}
	if a := poll(t, s, d.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("poll after approval: %d %s", a.status, a.body)
	}
	if n := s.Count(pyauthserver.RouteVerify); n != 1 {
		t.Fatalf("Count(verify) = %d", n)
	}

	d2 := startDevice(t, s)
	if s.Approve("BOGUS-CODE") {
		t.Fatal("Approve of an unknown code reported true")
	}
	if !s.Approve(strings.ToLower(strings.ReplaceAll(d2.UserCode, "-", ""))) {
		t.Fatal("Approve ignoring case and dashes failed")
	}
	if a := poll(t, s, d2.DeviceCode); a.status != http.StatusOK {
		t.Fatalf("poll after Approve: %d %s", a.status, a.body)
	}
	if a := get(t, s.Client(), d.VerificationURI+"?user_code=XXXX-XXXX", nil); a.status != http.StatusNotFound {
		t.Fatalf("verification page with unknown code: %d", a.status)
	}
}

func TestDevicePollSpacing(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{Interval: 1})
	s.PlanDevice(pyauthserver.DevicePlan{Pending: 2})
	d := startDevice(t, s)
	for range 3 {
		poll(t, s, d.DeviceCode)
		time.Sleep(20 * time.Millisecond)
	}
	times := s.DevicePolls()
	if len(times) != 3 {
		t.Fatalf("DevicePolls() has %d entries, want 3", len(times))
	}
	for i := 1; i < len(times); i++ {
		if gap := times[i].Sub(times[i-1]); gap < 20*time.Millisecond {
			t.Fatalf("gap %d = %v, want >= 20ms", i, gap)
		}
	}
}

// callback is a client's loopback redirect target.
type callback struct {
	srv *httptest.Server
	uri string // http://localhost:PORT/callback

	mu    sync.Mutex
	query url.Values
}

func newCallback(t *testing.T) *callback {
	t.Helper()
	cb := &callback{}
	cb.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/callback" {
			http.NotFound(w, r)
			return
		}
		cb.mu.Lock()
		cb.query = r.URL.Query()
		cb.mu.Unlock()
		io.WriteString(w, "login complete, you may close this window")
	}))
	t.Cleanup(cb.srv.Close)
	u, err := url.Parse(cb.srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	cb.uri = "http://localhost:" + u.Port() + "/callback"
	return cb
}

func (cb *callback) got() url.Values {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return cb.query
}

func loginURL(s *pyauthserver.Server, redirectURI string) string {
	return s.URL() + "/auth/v2/login?" + url.Values{
		"redirect_uri":   {redirectURI},
		"offline_access": {"true"},
		"prompt":         {"consent"},
	}.Encode()
}

// browserLogin follows the login redirects like a browser and returns the
// callback's query.
func browserLogin(t *testing.T, s *pyauthserver.Server, cb *callback) url.Values {
	t.Helper()
	a := get(t, http.DefaultClient, loginURL(s, cb.uri), nil)
	if a.status != http.StatusOK {
		t.Fatalf("browser login: %d %s", a.status, a.body)
	}
	q := cb.got()
	if q == nil {
		t.Fatal("callback not reached")
	}
	return q
}

func verifierOf(t *testing.T, state string) string {
	t.Helper()
	i := strings.LastIndex(state, "|")
	if i < 0 {
		t.Fatalf("state %q has no |", state)
	}
	return state[i+1:]
}

func exchange(t *testing.T, s *pyauthserver.Server, code, redirectURI, verifier string) answer {
	t.Helper()
	form := url.Values{"grant_type": {"authorization_code"}}
	for k, v := range map[string]string{"code": code, "redirect_uri": redirectURI, "code_verifier": verifier} {
		if v != "" {
			form.Set(k, v)
		}
	}
	return postForm(t, s.Client(), s.URL()+"/auth/v2/token", form)
}

func TestCodeFlow(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{Prefix: "/api/app/"})
	cb := newCallback(t)
	q := browserLogin(t, s, cb)

	lq := s.LastLoginQuery()
	if lq.Get("offline_access") != "true" || lq.Get("prompt") != "consent" || lq.Get("redirect_uri") != cb.uri {
		t.Fatalf("LastLoginQuery() = %v", lq)
	}
	state := q.Get("state")
	parts := strings.Split(state, "|")
	if len(parts) != 3 || parts[1] != cb.uri || q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	a := exchange(t, s, q.Get("code"), cb.uri, verifierOf(t, state))
	if a.status != http.StatusOK {
		t.Fatalf("exchange: %d %s", a.status, a.body)
	}
	tr := decodeTokens(t, a.body)
	if tr.TokenType != "Bearer" || tr.Scope != "openid profile email offline_access" {
		t.Fatalf("token response %+v", tr)
	}
	if form := s.LastTokenForm(); form.Get("grant_type") != "authorization_code" {
		t.Fatalf("LastTokenForm() = %v", form)
	}
	again := exchange(t, s, q.Get("code"), cb.uri, verifierOf(t, state))
	if again.status != http.StatusBadRequest || again.body != upstream("invalid_grant", "Code not valid") {
		t.Fatalf("code reuse: %d %s", again.status, again.body)
	}
	for route, want := range map[string]int{
		pyauthserver.RouteLogin: 1, pyauthserver.RouteAuthorize: 1,
		pyauthserver.RouteToken: 2, pyauthserver.CountTokenCode: 2,
	} {
		if got := s.Count(route); got != want {
			t.Errorf("Count(%q) = %d, want %d", route, got, want)
		}
	}
}

func TestCodeExchangeChecks(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		code       func(string) string
		redirect   func(string) string
		verifier   func(string) string
		wantStatus int
		wantBody   string
	}{
		{"wrong verifier", same, same, func(string) string { return strings.Repeat("x", 43) },
			400, upstream("invalid_grant", "PKCE verification failed: Code mismatch")},
		{"missing verifier", same, same, func(string) string { return "" },
			400, upstream("invalid_grant", "PKCE code verifier not specified")},
		{"wrong redirect_uri", same, func(string) string { return "http://localhost:1/callback" }, same,
			400, upstream("invalid_grant", "Incorrect redirect_uri")},
		{"missing redirect_uri", same, func(string) string { return "" }, same,
			400, `{"detail":"Missing redirect_uri"}`},
		{"unknown code", func(string) string { return "bogus" }, same, same,
			400, upstream("invalid_grant", "Code not valid")},
	}
	s := pyauthserver.Start(t, pyauthserver.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cb := newCallback(t)
			q := browserLogin(t, s, cb)
			a := exchange(t, s, tt.code(q.Get("code")), tt.redirect(cb.uri), tt.verifier(verifierOf(t, q.Get("state"))))
			if a.status != tt.wantStatus || a.body != tt.wantBody {
				t.Fatalf("got %d %s, want %d %s", a.status, a.body, tt.wantStatus, tt.wantBody)
			}
		})
	}
}

func same(s string) string { return s }

func TestIdPError(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{})
	cb := newCallback(t)
	s.SetIdPError("access_denied", "User declined")
	q := browserLogin(t, s, cb)
	if q.Get("error") != "access_denied" || q.Get("error_description") != "User declined" ||
		q.Get("code") != "" || len(strings.Split(q.Get("state"), "|")) != 3 {
		t.Fatalf("callback query with IdP error: %v", q)
	}
	q = browserLogin(t, s, cb)
	if q.Get("code") == "" || q.Get("error") != "" {
		t.Fatalf("the IdP error must apply once: %v", q)
	}
	s.SetIdPError("temporarily_unavailable", "")
	s.SetIdPError("", "")
	if q = browserLogin(t, s, cb); q.Get("code") == "" {
		t.Fatalf("cleared IdP error still applied: %v", q)
	}
}

func TestStrictRedirect(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{StrictRedirect: true})
	cb := newCallback(t)
	a := get(t, http.DefaultClient, loginURL(s, cb.uri), nil)
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "Invalid parameter: redirect_uri") {
		t.Fatalf("unlisted port: %d %s", a.status, a.body)
	}
	a = get(t, noRedirect(), loginURL(s, "http://localhost:53102/callback"), nil)
	loc, err := url.Parse(a.header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	b := get(t, noRedirect(), loc.String(), nil)
	if b.status != http.StatusFound || !strings.HasPrefix(b.header.Get("Location"), "http://localhost:53102/callback?") {
		t.Fatalf("listed port: %d %v", b.status, b.header)
	}
}

func TestLoginRedirect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		flavor pyauthserver.Flavor
		want   int
	}{
		{pyauthserver.FastAPI, http.StatusTemporaryRedirect},
		{pyauthserver.Flask, http.StatusFound},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.String(), func(t *testing.T) {
			t.Parallel()
			s := pyauthserver.Start(t, pyauthserver.Options{Flavor: tt.flavor, Prefix: "api"})
			a := get(t, noRedirect(), loginURL(s, "http://localhost:53100/callback"), nil)
			if a.status != tt.want {
				t.Fatalf("login status %d, want %d", a.status, tt.want)
			}
			loc, err := url.Parse(a.header.Get("Location"))
			if err != nil {
				t.Fatal(err)
			}
			q := loc.Query()
			if !strings.HasPrefix(loc.String(), s.URL()+"/idp/authorize?") ||
				q.Get("code_challenge_method") != "S256" || q.Get("prompt") != "consent" ||
				q.Get("scope") != "openid profile email offline_access" {
				t.Fatalf("authorize redirect %s", loc)
			}
			if a := get(t, s.Client(), s.URL()+"/auth/v2/login", nil); a.status != 400 || a.body != `{"detail":"Missing redirect_uri"}` {
				t.Fatalf("login without redirect_uri: %d %s", a.status, a.body)
			}
		})
	}
}

func refresh(t *testing.T, s *pyauthserver.Server, token string) answer {
	t.Helper()
	return postForm(t, s.Client(), s.URL()+"/auth/v2/token", url.Values{"refresh-token": {token}})
}

func TestRefreshRotation(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := pyauthserver.Start(t, pyauthserver.Options{Now: clock.Now, AccessTTL: time.Minute, RefreshTTL: time.Hour})
	first := deviceTokens(t, s)
	if first.AccessToken == first.RefreshToken {
		t.Fatal("passthrough mode must issue distinct access and refresh tokens")
	}
	if first.Expires != clock.Now().Add(time.Minute).Unix() || first.RefreshExpires != clock.Now().Add(time.Hour).Unix() {
		t.Fatalf("expires %d refresh_expires %d, now %d", first.Expires, first.RefreshExpires, clock.Now().Unix())
	}
	clock.Add(2 * time.Minute)
	if s.Valid(first.AccessToken) {
		t.Fatal("access token valid past its expiry")
	}
	a := refresh(t, s, first.RefreshToken)
	if a.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", a.status, a.body)
	}
	second := decodeTokens(t, a.body)
	if second.RefreshToken == first.RefreshToken || second.AccessToken == first.AccessToken || !s.Valid(second.AccessToken) {
		t.Fatalf("refresh did not rotate: %+v", second)
	}
	reuse := refresh(t, s, first.RefreshToken)
	want := `{"detail":"Upstream OIDC error: {\"error\":\"invalid_grant\",\"error_description\":\"Token is not active\"}"}`
	if reuse.status != http.StatusBadRequest || reuse.body != want {
		t.Fatalf("reused refresh token: %d %s, want 400 %s", reuse.status, reuse.body, want)
	}
	if n := s.Count(pyauthserver.CountTokenRefresh); n != 2 {
		t.Fatalf("Count(token:refresh) = %d, want 2", n)
	}
	s.RevokeRefreshTokens()
	if a := refresh(t, s, second.RefreshToken); a.status != http.StatusBadRequest || a.body != want {
		t.Fatalf("revoked refresh token: %d %s", a.status, a.body)
	}
	if !s.Valid(second.AccessToken) {
		t.Fatal("RevokeRefreshTokens invalidated an access token")
	}
	if a := refresh(t, s, "bogus"); a.body != upstream("invalid_grant", "Invalid refresh token") {
		t.Fatalf("unknown refresh token: %d %s", a.status, a.body)
	}
}

func TestBrokerRefresh(t *testing.T) {
	t.Parallel()
	clock := newClock()
	s := pyauthserver.Start(t, pyauthserver.Options{Broker: true, Now: clock.Now, AccessTTL: time.Minute, RefreshTTL: time.Hour})
	first := deviceTokens(t, s)
	if first.AccessToken != first.RefreshToken || first.TokenType != "Bearer" {
		t.Fatalf("broker tokens %+v", first)
	}
	parts := strings.Split(first.AccessToken, ".")
	if len(parts) != 3 {
		t.Fatalf("broker token %q is not JWT-shaped", first.AccessToken)
	}
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var claims struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp != first.Expires {
		t.Fatalf("claims %s (%v), want exp %d", payload, err, first.Expires)
	}

	clock.Add(5 * time.Minute)
	if s.Valid(first.AccessToken) {
		t.Fatal("expired broker token still Valid")
	}
	a := refresh(t, s, first.RefreshToken)
	if a.status != http.StatusOK {
		t.Fatalf("refresh of an expired broker token: %d %s", a.status, a.body)
	}
	second := decodeTokens(t, a.body)
	if second.AccessToken == first.AccessToken || second.AccessToken != second.RefreshToken || !s.Valid(second.AccessToken) {
		t.Fatalf("broker refresh did not rotate: %+v", second)
	}
	const expired = `{"detail":"Session expired or not found. Please re-authenticate."}`
	for name, token := range map[string]string{"rotated": first.RefreshToken, "unknown": "a.b.c"} {
		if a := refresh(t, s, token); a.status != http.StatusUnauthorized || a.body != expired {
			t.Fatalf("%s broker token: %d %s", name, a.status, a.body)
		}
	}
	s.ExpireAccessTokens()
	if s.Valid(second.AccessToken) {
		t.Fatal("ExpireAccessTokens left a token valid")
	}
	third := refresh(t, s, second.RefreshToken)
	if third.status != http.StatusOK {
		t.Fatalf("refresh after ExpireAccessTokens: %d %s", third.status, third.body)
	}
	s.RevokeRefreshTokens()
	if a := refresh(t, s, decodeTokens(t, third.body).RefreshToken); a.status != http.StatusUnauthorized || a.body != expired {
		t.Fatalf("revoked session: %d %s", a.status, a.body)
	}
	clock.Add(2 * time.Hour)
	s2 := deviceTokens(t, s)
	clock.Add(2 * time.Hour)
	if a := refresh(t, s, s2.RefreshToken); a.status != http.StatusUnauthorized {
		t.Fatalf("refresh past the session: %d %s", a.status, a.body)
	}
}

func TestValidAndUserinfo(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{TokenTypeLower: true})
	tr := deviceTokens(t, s)
	if tr.TokenType != "bearer" {
		t.Fatalf("token_type %q, want bearer", tr.TokenType)
	}
	if !s.Valid(tr.AccessToken) || s.Valid(tr.RefreshToken) || s.Valid("") {
		t.Fatal("Valid mixes up tokens")
	}
	u := s.URL() + "/auth/v2/userinfo"
	a := get(t, s.Client(), u, http.Header{"Authorization": {"bearer " + tr.AccessToken}})
	want := `{"username":"janedoe","first_name":"Jane","last_name":"Doe","email":"jane.doe@example.org","pw_name":"janedoe"}`
	if a.status != http.StatusOK || a.body != want {
		t.Fatalf("userinfo: %d %s", a.status, a.body)
	}
	if a := get(t, s.Client(), u, nil); a.status != http.StatusUnauthorized || a.body != `{"detail":"Not authenticated"}` {
		t.Fatalf("userinfo without token: %d %s", a.status, a.body)
	}
	s.ExpireAccessTokens()
	if s.Valid(tr.AccessToken) {
		t.Fatal("ExpireAccessTokens left a token valid")
	}
	if a := get(t, s.Client(), u, http.Header{"Authorization": {"Bearer " + tr.AccessToken}}); a.status != http.StatusUnauthorized {
		t.Fatalf("userinfo with expired token: %d %s", a.status, a.body)
	}
	if a := refresh(t, s, tr.RefreshToken); a.status != http.StatusOK {
		t.Fatalf("refresh after ExpireAccessTokens: %d %s", a.status, a.body)
	}
	fresh := deviceTokens(t, s)
	s.RevokeAccessTokens()
	if s.Valid(fresh.AccessToken) {
		t.Fatal("RevokeAccessTokens left a token valid")
	}
}

func TestAuxRoutes(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{})
	if a := get(t, s.Client(), s.URL()+"/auth/v2/auth-ports", nil); a.body != `{"valid_ports":[53100,53101,53102,53103,53104,53105]}` {
		t.Fatalf("auth-ports: %d %s", a.status, a.body)
	}
	a := get(t, http.DefaultClient, s.URL()+"/auth/v2/logout", nil)
	if a.status != http.StatusOK || !strings.Contains(a.body, "logged out") {
		t.Fatalf("logout: %d %s", a.status, a.body)
	}
	cb := newCallback(t)
	get(t, http.DefaultClient, s.URL()+"/auth/v2/logout?post_logout_redirect_uri="+url.QueryEscape(cb.uri), nil)
	if cb.got() == nil {
		t.Fatal("logout did not redirect to post_logout_redirect_uri")
	}
	if s.Count(pyauthserver.RouteLogout) != 2 || s.Count(pyauthserver.RouteIdPLogout) != 2 || s.Count(pyauthserver.RouteAuthPorts) != 1 {
		t.Fatalf("counts: logout %d idp-logout %d auth-ports %d", s.Count("logout"), s.Count("idp-logout"), s.Count("auth-ports"))
	}
}

func TestPrefix(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{Prefix: "/api/app"})
	base, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	if base.Path != "/api/app" || base.Hostname() != "127.0.0.1" {
		t.Fatalf("URL() = %s", s.URL())
	}
	startDevice(t, s)
	root := base.Scheme + "://" + base.Host
	if a := postForm(t, s.Client(), root+"/auth/v2/device", nil); a.status != http.StatusNotFound || a.body != `{"detail":"Not Found"}` {
		t.Fatalf("device route without prefix: %d %s", a.status, a.body)
	}
	if n := s.Count(pyauthserver.RouteDevice); n != 1 {
		t.Fatalf("Count(device) = %d, want 1", n)
	}
}

func TestFlavorShapes(t *testing.T) {
	t.Parallel()
	const flask405 = "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
	tests := []struct {
		name     string
		flavor   pyauthserver.Flavor
		method   string
		path     string
		want     int
		wantBody string
		wantCT   string
	}{
		{"fastapi 404", pyauthserver.FastAPI, http.MethodGet, "/nope", 404, `{"detail":"Not Found"}`, "application/json"},
		{"flask 404", pyauthserver.Flask, http.MethodGet, "/nope", 404, `{"detail":""}`, "application/json"},
		{"fastapi 405", pyauthserver.FastAPI, http.MethodGet, "/auth/v2/token", 405, `{"detail":"Method Not Allowed"}`, "application/json"},
		{"flask 405", pyauthserver.Flask, http.MethodGet, "/auth/v2/token", 405, flask405, "text/html; charset=utf-8"},
		{"fastapi 405 on a GET route", pyauthserver.FastAPI, http.MethodPost, "/auth/v2/login", 405, `{"detail":"Method Not Allowed"}`, "application/json"},
		{"missing fields", pyauthserver.FastAPI, http.MethodPost, "/auth/v2/token", 400, `{"detail":"Missing (device) code or refresh_token"}`, "application/json"},
		{"underscore field names are not read", pyauthserver.Flask, http.MethodPost, "/auth/v2/token?x=1", 400, `{"detail":"Missing (device) code or refresh_token"}`, "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pyauthserver.Start(t, pyauthserver.Options{Flavor: tt.flavor})
			var body io.Reader
			if tt.method == http.MethodPost {
				body = strings.NewReader("device_code=abc&refresh_token=def")
			}
			req, err := http.NewRequestWithContext(t.Context(), tt.method, s.URL()+tt.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if body != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			a := do(t, s.Client(), req)
			if a.status != tt.want || a.body != tt.wantBody || a.header.Get("Content-Type") != tt.wantCT {
				t.Fatalf("got %d %q %q, want %d %q %q", a.status, a.header.Get("Content-Type"), a.body, tt.want, tt.wantCT, tt.wantBody)
			}
		})
	}
}

func TestNonFormRejected(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		route       string
		contentType string
		body        string
	}{
		{"json token", "/auth/v2/token", "application/json", `{"device-code":"abc"}`},
		{"json device", "/auth/v2/device", "application/json", `{}`},
		{"untyped body", "/auth/v2/token", "", "device-code=abc"},
		{"multipart", "/auth/v2/token", "multipart/form-data; boundary=x", "--x--"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := pyauthserver.Start(t, pyauthserver.Options{Flavor: pyauthserver.Flask})
			req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+tt.route, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if tt.contentType != "" {
				req.Header.Set("Content-Type", tt.contentType)
			}
			a := do(t, s.Client(), req)
			var v struct {
				Detail []pyauthserver.ValidationError `json:"detail"`
			}
			if a.status != http.StatusUnprocessableEntity {
				t.Fatalf("status %d %s, want 422", a.status, a.body)
			}
			if err := json.Unmarshal([]byte(a.body), &v); err != nil || len(v.Detail) != 1 || v.Detail[0].Msg == "" {
				t.Fatalf("422 body %s: %v", a.body, err)
			}
		})
	}
	s := pyauthserver.Start(t, pyauthserver.Options{})
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, s.URL()+"/auth/v2/device", nil)
	if err != nil {
		t.Fatal(err)
	}
	if a := do(t, s.Client(), req); a.status != http.StatusOK {
		t.Fatalf("device start without body or type: %d %s", a.status, a.body)
	}
}

func TestDeviceStatus(t *testing.T) {
	t.Parallel()
	const flask405 = "<!doctype html>\n<html lang=en>\n<title>405 Method Not Allowed</title>\n<h1>Method Not Allowed</h1>\n<p>The method is not allowed for the requested URL.</p>\n"
	tests := []struct {
		flavor pyauthserver.Flavor
		status int
		want   string
	}{
		{pyauthserver.FastAPI, 404, `{"detail":"Not Found"}`},
		{pyauthserver.Flask, 404, `{"detail":""}`},
		{pyauthserver.FastAPI, 405, `{"detail":"Method Not Allowed"}`},
		{pyauthserver.Flask, 405, flask405},
		{pyauthserver.FastAPI, 501, `{"detail":"Not Implemented"}`},
		{pyauthserver.Flask, 501, `{"detail":"Not Implemented"}`},
		{pyauthserver.FastAPI, 503, `{"detail":"Device flow is not supported by the identity provider."}`},
		{pyauthserver.Flask, 503, `{"detail":"Device flow is not supported by the identity provider."}`},
	}
	for _, tt := range tests {
		t.Run(tt.flavor.String()+"/"+http.StatusText(tt.status), func(t *testing.T) {
			t.Parallel()
			s := pyauthserver.Start(t, pyauthserver.Options{Flavor: tt.flavor, DeviceStatus: tt.status})
			a := postForm(t, s.Client(), s.URL()+"/auth/v2/device", nil)
			if a.status != tt.status || a.body != tt.want {
				t.Fatalf("got %d %q, want %d %q", a.status, a.body, tt.status, tt.want)
			}
			if s.Count(pyauthserver.RouteDevice) != 1 {
				t.Fatalf("Count(device) = %d", s.Count(pyauthserver.RouteDevice))
			}
		})
	}
}

func TestOverride(t *testing.T) {
	t.Parallel()
	s := pyauthserver.Start(t, pyauthserver.Options{})
	s.Override(pyauthserver.RouteToken, func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.PostForm.Get("device-code") != "abc" {
			t.Errorf("override did not see the form: %v %v", err, r.PostForm)
		}
		pyauthserver.WriteRFCError(w, http.StatusBadRequest, "slow_down", "")
	})
	a := poll(t, s, "abc")
	if a.status != http.StatusBadRequest || a.body != `{"error":"slow_down"}` {
		t.Fatalf("overridden token route: %d %s", a.status, a.body)
	}
	if s.Count(pyauthserver.RouteToken) != 1 || s.Count(pyauthserver.CountTokenDevice) != 1 {
		t.Fatalf("overridden requests not counted: %d %d", s.Count("token"), s.Count("token:device"))
	}
	s.Override(pyauthserver.RouteToken, nil)
	if a := poll(t, s, "abc"); a.body != upstream("invalid_grant", "Device code not valid") {
		t.Fatalf("override not cleared: %d %s", a.status, a.body)
	}
}

func TestTLS(t *testing.T) {
	t.Parallel()
	s := pyauthserver.StartTLS(t, pyauthserver.Options{})
	if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") {
		t.Fatalf("URL() = %s", s.URL())
	}
	if !bytes.HasPrefix(s.CertPEM(), []byte("-----BEGIN CERTIFICATE-----")) {
		t.Fatalf("CertPEM() = %q", s.CertPEM())
	}
	deviceTokens(t, s)
	plain := pyauthserver.Start(t, pyauthserver.Options{})
	if plain.CertPEM() != nil {
		t.Fatal("plain server has a certificate")
	}
}

func TestTestbrowser(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var bin string
	if prebuilt := os.Getenv("OIDC_AUTH_TEST_BINDIR"); prebuilt != "" {
		// Built already, one level above the product binaries, where
		// there is no go to build it with (scripts/test-windows).
		bin = filepath.Join(filepath.Dir(prebuilt), "testbrowser")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
	} else {
		goTool, err := exec.LookPath("go")
		if err != nil {
			t.Skip("no go on PATH to build the test browser with, and no OIDC_AUTH_TEST_BINDIR with it built")
		}
		bin = filepath.Join(dir, "testbrowser")
		build := exec.CommandContext(t.Context(), goTool, "build", "-o", bin, "../testbrowser")
		if out, err := build.CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}

	s := pyauthserver.Start(t, pyauthserver.Options{Flavor: pyauthserver.Flask})
	cb := newCallback(t)
	logFile := filepath.Join(dir, "browser.log")
	run := func(t *testing.T, target string) (int, string, string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
		defer cancel()
		cmd := exec.CommandContext(ctx, bin, "--new-window", target)
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.Env = append(os.Environ(), "TESTBROWSER_LOG="+logFile, "TESTBROWSER_DELAY=10ms")
		err := cmd.Run()
		var exit *exec.ExitError
		switch {
		case err == nil:
			return 0, stdout.String(), stderr.String()
		case errors.As(err, &exit):
			return exit.ExitCode(), stdout.String(), stderr.String()
		}
		t.Fatalf("run testbrowser: %v", err)
		return 0, "", ""
	}

	login := loginURL(s, cb.uri)
	code, stdout, stderr := run(t, login)
	if code != 0 || stdout != "" {
		t.Fatalf("login: exit %d stdout %q stderr %q", code, stdout, stderr)
	}
	if strings.Contains(stderr, "code=") || !strings.Contains(stderr, cb.uri) {
		t.Fatalf("stderr %q must name the callback without its query", stderr)
	}
	q := cb.got()
	if q.Get("code") == "" {
		t.Fatalf("callback query %v", q)
	}
	if a := exchange(t, s, q.Get("code"), cb.uri, verifierOf(t, q.Get("state"))); a.status != http.StatusOK {
		t.Fatalf("exchange after browser login: %d %s", a.status, a.body)
	}

	code, stdout, _ = run(t, s.URL()+"/nope")
	if code != 1 || stdout != "" {
		t.Fatalf("404 page: exit %d stdout %q", code, stdout)
	}
	logged, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	if want := login + "\n" + s.URL() + "/nope\n"; string(logged) != want {
		t.Fatalf("log %q, want %q", logged, want)
	}
}

// clock is a settable time source for Options.Now.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func newClock() *clock { return &clock{now: time.Unix(1767225600, 0)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}
