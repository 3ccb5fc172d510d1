package hostile_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"html"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/hostile"
	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// answer is a response reduced to what the tests compare.
type answer struct {
	status int
	body   string
	header http.Header
	close  bool // the response asked to close the connection
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
	return answer{resp.StatusCode, string(b), resp.Header, resp.Close}
}

func formRequest(t *testing.T, ctx context.Context, u string, form url.Values) *http.Request {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}

func post(t *testing.T, c *http.Client, u string, form url.Values) answer {
	t.Helper()
	return do(t, c, formRequest(t, t.Context(), u, form))
}

func get(t *testing.T, c *http.Client, u string) answer {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return do(t, c, req)
}

// noRedirect returns a client for s that returns redirects instead of
// following them.
func noRedirect(s *hostile.Server) *http.Client {
	c := *s.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

func deviceURL(s *hostile.Server) string { return s.URL() + "/auth/v2/device" }
func tokenURL(s *hostile.Server) string  { return s.URL() + "/auth/v2/token" }

// decodeObject decodes a JSON object keeping numbers exact.
func decodeObject(t *testing.T, body string) map[string]any {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(body))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	return m
}

// startDevice starts a device authorization and returns its decoded answer.
func startDevice(t *testing.T, s *hostile.Server) map[string]any {
	t.Helper()
	a := post(t, noRedirect(s), deviceURL(s), nil)
	if a.status != http.StatusOK {
		t.Fatalf("device start: %d %s", a.status, a.body)
	}
	m := decodeObject(t, a.body)
	if dc, _ := m["device_code"].(string); dc == "" {
		t.Fatalf("device start without device_code: %s", a.body)
	}
	return m
}

// pollTokens polls the device code until the token route answers 200 and
// returns that body, failing after a few polls.
func pollTokens(t *testing.T, s *hostile.Server, deviceCode string) string {
	t.Helper()
	for range 5 {
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"device-code": {deviceCode}})
		if a.status == http.StatusOK {
			return a.body
		}
		if !strings.Contains(a.body, "authorization_pending") {
			t.Fatalf("device poll: %d %s", a.status, a.body)
		}
	}
	t.Fatal("device poll: still pending after 5 polls")
	return ""
}

// login runs a device login and returns the token answer.
func login(t *testing.T, s *hostile.Server) pyauthserver.TokenResponse {
	t.Helper()
	d := startDevice(t, s)
	var tr pyauthserver.TokenResponse
	body := pollTokens(t, s, d["device_code"].(string))
	if err := json.Unmarshal([]byte(body), &tr); err != nil || tr.AccessToken == "" || tr.RefreshToken == "" {
		t.Fatalf("token body %q: %v", body, err)
	}
	return tr
}

// upstreamDetail splits a {"detail":"Upstream OIDC error: {…}"} body into
// the embedded error code and description.
func upstreamDetail(t *testing.T, body string) (code, desc string) {
	t.Helper()
	var outer struct {
		Detail string `json:"detail"`
	}
	if err := json.Unmarshal([]byte(body), &outer); err != nil {
		t.Fatalf("body %q: %v", body, err)
	}
	raw, ok := strings.CutPrefix(outer.Detail, "Upstream OIDC error: ")
	if !ok {
		t.Fatalf("detail %q is no upstream error", outer.Detail)
	}
	var inner struct {
		Error       string `json:"error"`
		Description string `json:"error_description"`
	}
	if err := json.Unmarshal([]byte(raw), &inner); err != nil {
		t.Fatalf("embedded error %q: %v", raw, err)
	}
	return inner.Error, inner.Description
}

func title(t *testing.T, page string) string {
	t.Helper()
	_, rest, ok := strings.Cut(page, "<title>")
	if !ok {
		t.Fatalf("page without <title>: %q", page)
	}
	ti, _, ok := strings.Cut(rest, "</title>")
	if !ok {
		t.Fatalf("page without </title>: %q", page)
	}
	return ti
}

func noEvil(t *testing.T, s *hostile.Server) {
	t.Helper()
	if reqs := s.Evil().Requests(); len(reqs) != 0 {
		t.Fatalf("evil recorder got %d requests: %+v", len(reqs), reqs)
	}
}

func wantNumber(t *testing.T, m map[string]any, key, want string) {
	t.Helper()
	if n, ok := m[key].(json.Number); !ok || n.String() != want {
		t.Fatalf("%s = %#v, want %s", key, m[key], want)
	}
}

func unix(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("%s = %#v, want a number", key, m[key])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return v
}

// hasControl reports whether s holds a C0 or C1 control character or a bidi override.
func hasControl(s string) bool {
	return strings.ContainsFunc(s, func(r rune) bool {
		return r < 0x20 || (r >= 0x7f && r < 0xa0) || r == '\u202e'
	})
}

// codeForm is a code-exchange form as a client sends it.
var codeForm = url.Values{
	"code":          {"the-code-SECRET-0123456789"},
	"redirect_uri":  {"http://localhost:53100/callback"},
	"code_verifier": {"the-verifier-SECRET-0123456789"},
	"grant_type":    {"authorization_code"},
}

// checks holds, for every mode, a test that the mode does what its doc
// comment says.
var checks = map[hostile.Mode]func(t *testing.T, s *hostile.Server){
	hostile.WellBehaved: func(t *testing.T, s *hostile.Server) {
		tr := login(t, s)
		if !s.Py().Valid(tr.AccessToken) {
			t.Fatal("access token not valid at the wrapped server")
		}
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {tr.RefreshToken}})
		if a.status != http.StatusOK {
			t.Fatalf("refresh: %d %s", a.status, a.body)
		}
		if n := len(s.SentTo(pyauthserver.RouteDevice)); n != 1 {
			t.Fatalf("device forms: %d, want 1", n)
		}
		tokens := s.SentTo(pyauthserver.RouteToken)
		if len(tokens) != 3 || tokens[2].Get("refresh-token") != tr.RefreshToken {
			t.Fatalf("token forms: %v", tokens)
		}
		if n := s.Py().Count(pyauthserver.CountTokenDevice); n != 2 {
			t.Fatalf("wrapped server saw %d polls, want 2", n)
		}
		noEvil(t, s)
	},

	hostile.RedirectToken307: checkRedirectToken(http.StatusTemporaryRedirect),
	hostile.RedirectToken308: checkRedirectToken(http.StatusPermanentRedirect),
	hostile.RedirectToken302: checkRedirectToken(http.StatusFound),
	hostile.RedirectDevice307: func(t *testing.T, s *hostile.Server) {
		a := post(t, noRedirect(s), deviceURL(s), nil)
		if a.status != http.StatusTemporaryRedirect || a.header.Get("Location") != s.StealURL() || a.body != "" {
			t.Fatalf("device start: %d %v %q", a.status, a.header, a.body)
		}
		if s.Py().Count(pyauthserver.RouteDevice) != 0 {
			t.Fatal("the redirected device start reached the wrapped server")
		}
		// The token route is normal.
		a = post(t, noRedirect(s), tokenURL(s), url.Values{"device-code": {"bogus"}})
		if code, _ := upstreamDetail(t, a.body); a.status != http.StatusBadRequest || code != "invalid_grant" {
			t.Fatalf("poll: %d %s", a.status, a.body)
		}
		noEvil(t, s)
		// A client that follows would re-post to Evil.
		post(t, s.Client(), deviceURL(s), url.Values{"x": {"y"}})
		reqs := s.Evil().Requests()
		if len(reqs) != 1 || reqs[0].Method != http.MethodPost || reqs[0].Path != "/steal" || reqs[0].RawQuery != "x=1" {
			t.Fatalf("evil got %+v", reqs)
		}
	},

	hostile.EchoSecrets: func(t *testing.T, s *hostile.Server) {
		secret := "a/b+c=d&e f-0123456789XYZ"
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {secret}})
		want := `{"detail":"Upstream OIDC error: {\"error\":\"invalid_request\",\"error_description\":\"invalid token in request: ` +
			`refresh-token=a/b+c=d&e f-0123456789XYZ refresh-token=a%2Fb%2Bc%3Dd%26e+f-0123456789XYZ a/b+c=d&e f-01234567\"}"}`
		if a.status != http.StatusBadRequest || a.body != want {
			t.Fatalf("refresh: %d %s\nwant 400 %s", a.status, a.body, want)
		}
		// A device login reaches the poll, which echoes the device code.
		d := startDevice(t, s)
		dc := d["device_code"].(string)
		a = post(t, noRedirect(s), tokenURL(s), url.Values{"device-code": {dc}})
		code, desc := upstreamDetail(t, a.body)
		if a.status != http.StatusBadRequest || code != "invalid_request" ||
			desc != hostile.EchoPrefix+"device-code="+dc+" device-code="+url.QueryEscape(dc)+" "+dc[:20] {
			t.Fatalf("poll: %d %s", a.status, a.body)
		}
		// Every field of a code exchange, sorted by name.
		a = post(t, noRedirect(s), tokenURL(s), codeForm)
		_, desc = upstreamDetail(t, a.body)
		if want := hostile.EchoPrefix + hostile.Echo(codeForm); desc != want {
			t.Fatalf("code exchange: %q, want %q", desc, want)
		}
		for _, part := range []string{"code=the-code-SECRET-0123456789", "code_verifier=the-verifier-SECRET-0123456789",
			"redirect_uri=http%3A%2F%2Flocalhost%3A53100%2Fcallback", " the-verifier-SECRET-"} {
			if !strings.Contains(desc, part) {
				t.Fatalf("code exchange echo %q lacks %q", desc, part)
			}
		}
		if i, j := strings.Index(desc, "code="), strings.Index(desc, "code_verifier="); i > j {
			t.Fatalf("echo not sorted by name: %q", desc)
		}
	},
	hostile.EchoSecretsRFC: func(t *testing.T, s *hostile.Server) {
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {"a/b+c=d&e f-0123456789XYZ"}})
		want := `{"error":"invalid_grant","error_description":"invalid token in request: ` +
			`refresh-token=a/b+c=d&e f-0123456789XYZ refresh-token=a%2Fb%2Bc%3Dd%26e+f-0123456789XYZ a/b+c=d&e f-01234567"}`
		if a.status != http.StatusBadRequest || a.body != want {
			t.Fatalf("refresh: %d %s\nwant 400 %s", a.status, a.body, want)
		}
		startDevice(t, s)
	},
	hostile.EchoSecretsHTML: func(t *testing.T, s *hostile.Server) {
		secret := "a/b+c=d&e f-0123456789XYZ"
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {secret}})
		if a.status != http.StatusInternalServerError || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
			t.Fatalf("refresh: %d %v %s", a.status, a.header, a.body)
		}
		ti := html.UnescapeString(title(t, a.body))
		if want := hostile.EchoPrefix + "refresh-token=" + secret + " refresh-token=" + url.QueryEscape(secret) + " " + secret[:20]; ti != want {
			t.Fatalf("title %q, want %q", ti, want)
		}
		startDevice(t, s)
	},

	hostile.EscapeUserCode: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		if d["user_code"] != hostile.EvilUserCode {
			t.Fatalf("user_code %q", d["user_code"])
		}
		if v := d["verification_uri"].(string); v != s.URL()+"/idp/device" {
			t.Fatalf("verification_uri %q", v)
		}
		pollTokens(t, s, d["device_code"].(string))
	},
	hostile.EscapeVerificationURI: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		if d["verification_uri"] != hostile.EvilVerificationURI {
			t.Fatalf("verification_uri %q", d["verification_uri"])
		}
		if c, ok := d["verification_uri_complete"]; !ok || c != nil {
			t.Fatalf("verification_uri_complete %#v, want null", c)
		}
		if hasControl(d["user_code"].(string)) {
			t.Fatalf("user_code %q", d["user_code"])
		}
		pollTokens(t, s, d["device_code"].(string))
	},
	hostile.EscapeVerificationURIComplete: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		if v := d["verification_uri"].(string); v != s.URL()+"/idp/device" || hasControl(v) {
			t.Fatalf("verification_uri %q", v)
		}
		c := d["verification_uri_complete"].(string)
		clean := s.URL() + "/idp/device?" + url.Values{"user_code": {d["user_code"].(string)}}.Encode()
		if c != clean+"&x=\x1b]8;;"+s.Evil().URL()+"/phish\x07click\x1b]8;;\x07"+hostile.EvilURISuffix {
			t.Fatalf("verification_uri_complete %q", c)
		}
		pollTokens(t, s, d["device_code"].(string))
	},
	hostile.NonHTTPVerificationURI: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		if d["verification_uri"] != hostile.JavaScriptURI || d["verification_uri_complete"] != hostile.FileURI {
			t.Fatalf("verification URIs %q %q", d["verification_uri"], d["verification_uri_complete"])
		}
		pollTokens(t, s, d["device_code"].(string))
	},
	hostile.EscapeErrorDescription: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		for range 2 {
			a := post(t, noRedirect(s), tokenURL(s), url.Values{"device-code": {d["device_code"].(string)}})
			code, desc := upstreamDetail(t, a.body)
			if a.status != http.StatusBadRequest || code != "access_denied" || desc != hostile.EvilErrorDescription {
				t.Fatalf("poll: %d %s", a.status, a.body)
			}
			for _, c := range []string{"\x1b[", "\x1b]", "\u009b", "\x07", "\b", "\r", "\u202e"} {
				if !strings.Contains(desc, c) {
					t.Fatalf("description %q lacks %q", desc, c)
				}
			}
		}
		// A refresh is answered by the wrapped server.
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {"bogus"}})
		if code, desc := upstreamDetail(t, a.body); code != "invalid_grant" || desc != "Invalid refresh token" {
			t.Fatalf("refresh: %d %s", a.status, a.body)
		}
	},
	hostile.EscapeHTMLTitle: func(t *testing.T, s *hostile.Server) {
		a := post(t, noRedirect(s), deviceURL(s), nil)
		if a.status != http.StatusInternalServerError || !strings.HasPrefix(a.header.Get("Content-Type"), "text/html") {
			t.Fatalf("device start: %d %v %s", a.status, a.header, a.body)
		}
		ti := title(t, a.body)
		if ti != hostile.EvilHTMLTitle || !strings.Contains(ti, "&#27;[2J") || !strings.Contains(ti, "\x1b[31m") {
			t.Fatalf("title %q", ti)
		}
		if u := html.UnescapeString(ti); !strings.Contains(u, "\x1b[2J") || !strings.Contains(u, "\u009b7m") || !strings.Contains(u, "\x07") {
			t.Fatalf("unescaped title %q", u)
		}
	},

	hostile.HugeInterval: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		wantNumber(t, d, "interval", "1000000000000")
		checkFirstPollApproves(t, s, d)
	},
	hostile.NegativeInterval: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		wantNumber(t, d, "interval", "-5")
		checkFirstPollApproves(t, s, d)
	},
	hostile.HugeDeviceExpiry: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		wantNumber(t, d, "expires_in", "1000000000000")
		wantNumber(t, d, "interval", "1")
		checkFirstPollApproves(t, s, d)
	},
	hostile.TokenExpiresInPast: func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		wantNumber(t, d, "interval", "1")
		m := checkFirstPollApproves(t, s, d)
		now := time.Now().Unix()
		if e := unix(t, m, "expires"); e < now-3605 || e > now-3595 {
			t.Fatalf("expires %d, want about now-3600 (%d)", e, now-3600)
		}
		if e := unix(t, m, "refresh_expires"); e <= now {
			t.Fatalf("refresh_expires %d not in the future", e)
		}
		a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {m["refresh_token"].(string)}})
		if e := unix(t, decodeObject(t, a.body), "expires"); a.status != http.StatusOK || e > now-3595 {
			t.Fatalf("refresh: %d %s", a.status, a.body)
		}
	},
	hostile.TokenExpiresFarFuture: func(t *testing.T, s *hostile.Server) {
		m := checkFirstPollApproves(t, s, startDevice(t, s))
		want := time.Now().AddDate(50, 0, 0).Unix()
		for _, k := range []string{"expires", "refresh_expires"} {
			if e := unix(t, m, k); e < want-5 || e > want+5 {
				t.Fatalf("%s %d, want about now+50y (%d)", k, e, want)
			}
		}
	},
	hostile.TokenHugeExpiresIn: func(t *testing.T, s *hostile.Server) {
		m := checkFirstPollApproves(t, s, startDevice(t, s))
		for _, k := range []string{"expires", "refresh_expires"} {
			if _, ok := m[k]; ok {
				t.Fatalf("answer has %s: %v", k, m)
			}
		}
		wantNumber(t, m, "expires_in", "1000000000000000000")
		wantNumber(t, m, "refresh_expires_in", "1000000000000000000")
	},

	hostile.Device404JSON: checkDeviceStatus(http.StatusNotFound, "application/json", `{"detail":"Not Found"}`),
	hostile.Device404HTML: checkDeviceStatus(http.StatusNotFound, "text/html; charset=utf-8", "<!doctype html>\n<html lang=en>\n<title>404 Not Found</title>\n"+
		"<h1>Not Found</h1>\n<p>The requested URL was not found on the server. If you entered the URL manually please check your spelling and try again.</p>\n"),
	hostile.DeviceNoDeviceFlow502: checkDeviceStatus(http.StatusBadGateway, "application/json",
		`{"detail":"OIDC endpoint 'device_authorization_endpoint' not found in discovery."}`),
	hostile.Device502Other: checkDeviceStatus(http.StatusBadGateway, "application/json", `{"detail":"Failed to contact OIDC endpoint: timeout"}`),
	hostile.Device501:      checkDeviceStatus(http.StatusNotImplemented, "application/json", `{"detail":"Not Implemented"}`),
	hostile.Device405: func(t *testing.T, s *hostile.Server) {
		checkDeviceStatus(http.StatusMethodNotAllowed, "application/json", `{"detail":"Method Not Allowed"}`)(t, s)
		if a := post(t, noRedirect(s), deviceURL(s), nil); a.header.Get("Allow") != "GET" {
			t.Fatalf("Allow %q", a.header.Get("Allow"))
		}
	},

	hostile.DropReusedConnection: checkDropReused,
	hostile.IdleTimeout: func(t *testing.T, s *hostile.Server) {
		if d := idleClose(t, s, 4*time.Second); d < 900*time.Millisecond || d > 3*time.Second {
			t.Fatalf("idle connection closed after %v, want about 1s", d)
		}
		login(t, s)
	},

	hostile.LoginNoRedirect: func(t *testing.T, s *hostile.Server) {
		a := get(t, noRedirect(s), s.URL()+"/auth/v2/login?redirect_uri="+url.QueryEscape("http://localhost:53100/callback"))
		if a.status != http.StatusOK || a.header.Get("Location") != "" ||
			!strings.HasPrefix(a.header.Get("Content-Type"), "text/html") || !strings.Contains(a.body, "<form") {
			t.Fatalf("login: %d %v %s", a.status, a.header, a.body)
		}
		a = post(t, noRedirect(s), deviceURL(s), nil)
		if a.status != http.StatusBadGateway || a.body != `{"detail":"`+hostile.NoDeviceFlowDetail+`"}` {
			t.Fatalf("device start: %d %s", a.status, a.body)
		}
	},
	hostile.SlowRefresh: checkSlowRefresh,
}

// checkFirstPollApproves polls the device start d once, wants tokens valid at
// the wrapped server and returns the answer.
func checkFirstPollApproves(t *testing.T, s *hostile.Server, d map[string]any) map[string]any {
	t.Helper()
	a := post(t, noRedirect(s), tokenURL(s), url.Values{"device-code": {d["device_code"].(string)}})
	if a.status != http.StatusOK {
		t.Fatalf("first poll: %d %s", a.status, a.body)
	}
	m := decodeObject(t, a.body)
	if at, _ := m["access_token"].(string); !s.Py().Valid(at) {
		t.Fatalf("access token of %s not valid at the wrapped server", a.body)
	}
	return m
}

func checkRedirectToken(status int) func(t *testing.T, s *hostile.Server) {
	return func(t *testing.T, s *hostile.Server) {
		d := startDevice(t, s)
		dc := d["device_code"].(string)
		forms := []url.Values{{"device-code": {dc}}, {"refresh-token": {"rt-SECRET"}}, codeForm}
		for _, f := range forms {
			a := post(t, noRedirect(s), tokenURL(s), f)
			if a.status != status || a.header.Get("Location") != s.StealURL() || a.body != "" {
				t.Fatalf("token %v: %d %v %q, want %d to %s", f, a.status, a.header, a.body, status, s.StealURL())
			}
		}
		if n := s.Py().Count(pyauthserver.RouteToken); n != 0 {
			t.Fatalf("wrapped server saw %d token requests", n)
		}
		if sent := s.SentTo(pyauthserver.RouteToken); len(sent) != 3 || sent[0].Get("device-code") != dc {
			t.Fatalf("sent %v", sent)
		}
		noEvil(t, s)

		// What a client that follows redirects would do.
		a := post(t, s.Client(), tokenURL(s), url.Values{"device-code": {dc}})
		if a.status != http.StatusOK || !strings.Contains(a.body, `"access_token":"`+hostile.EvilAccessPrefix) ||
			!strings.Contains(a.body, `"refresh_token":"`+hostile.EvilRefreshPrefix) {
			t.Fatalf("followed: %d %s", a.status, a.body)
		}
		reqs := s.Evil().Requests()
		if len(reqs) != 1 || reqs[0].Path != "/steal" || reqs[0].RawQuery != "x=1" {
			t.Fatalf("evil got %+v", reqs)
		}
		if status == http.StatusFound {
			if reqs[0].Method != http.MethodGet || reqs[0].Body != "" {
				t.Fatalf("302 followed as %s %q, want GET without body", reqs[0].Method, reqs[0].Body)
			}
		} else if reqs[0].Method != http.MethodPost || reqs[0].Form().Get("device-code") != dc {
			t.Fatalf("%d followed as %s %q, want the POST with the device code", status, reqs[0].Method, reqs[0].Body)
		}
	}
}

func checkDeviceStatus(status int, contentType, body string) func(t *testing.T, s *hostile.Server) {
	return func(t *testing.T, s *hostile.Server) {
		a := post(t, noRedirect(s), deviceURL(s), nil)
		if a.status != status || a.header.Get("Content-Type") != contentType || a.body != body {
			t.Fatalf("device start: %d %q %q\nwant %d %q %q", a.status, a.header.Get("Content-Type"), a.body, status, contentType, body)
		}
		if s.Py().Count(pyauthserver.RouteDevice) != 0 {
			t.Fatal("device start reached the wrapped server")
		}
		// The code flow's login route still redirects to the provider.
		a = get(t, noRedirect(s), s.URL()+"/auth/v2/login?redirect_uri="+url.QueryEscape("http://localhost:53100/callback"))
		if a.status != http.StatusTemporaryRedirect || !strings.HasPrefix(a.header.Get("Location"), s.URL()+"/idp/authorize?") {
			t.Fatalf("login: %d %v", a.status, a.header)
		}
	}
}

// countingClient returns a client with its own transport for s that counts
// the connections it dials.
func countingClient(t *testing.T, s *hostile.Server) (*http.Client, *atomic.Int64) {
	t.Helper()
	tr := s.Client().Transport.(*http.Transport).Clone()
	var dials atomic.Int64
	dial := tr.DialContext
	if dial == nil {
		dial = (&net.Dialer{}).DialContext
	}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials.Add(1)
		return dial(ctx, network, addr)
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{Transport: tr}, &dials
}

func isDropped(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, connReset) ||
		strings.Contains(err.Error(), "connection reset by peer")
}

func checkDropReused(t *testing.T, s *hostile.Server) {
	c, dials := countingClient(t, s)
	a := post(t, c, deviceURL(s), nil)
	if a.status != http.StatusOK || a.close || a.header.Get("Connection") != "" {
		t.Fatalf("device start: %d close=%v %v", a.status, a.close, a.header)
	}
	dc := decodeObject(t, a.body)["device_code"].(string)

	// The second POST on the pooled connection is read, then reset.
	resp, err := c.Do(formRequest(t, t.Context(), tokenURL(s), url.Values{"device-code": {dc}}))
	if err == nil {
		resp.Body.Close()
		t.Fatalf("reused connection answered %d", resp.StatusCode)
	}
	if !isDropped(err) {
		t.Fatalf("reused connection: %v, want EOF or connection reset", err)
	}
	t.Logf("reused connection: %v", err)
	if s.Dropped() != 1 || dials.Load() != 1 {
		t.Fatalf("dropped %d, dials %d; want 1, 1", s.Dropped(), dials.Load())
	}
	if sent := s.SentTo(pyauthserver.RouteToken); len(sent) != 1 || sent[0].Get("device-code") != dc {
		t.Fatalf("dropped request not read: %v", sent)
	}
	if n := s.Py().Count(pyauthserver.RouteToken); n != 0 {
		t.Fatalf("dropped request reached the wrapped server (%d)", n)
	}

	// A retry on a fresh connection is answered.
	a = post(t, c, tokenURL(s), url.Values{"device-code": {dc}})
	if a.status != http.StatusBadRequest || !strings.Contains(a.body, "authorization_pending") {
		t.Fatalf("retry: %d %s", a.status, a.body)
	}
	if s.Dropped() != 1 || dials.Load() != 2 {
		t.Fatalf("dropped %d, dials %d; want 1, 2", s.Dropped(), dials.Load())
	}

	// net/http retries an idempotent GET on its own; it does not for a POST.
	a = get(t, c, s.URL()+"/auth/v2/auth-ports")
	if a.status != http.StatusOK || s.Dropped() != 2 || dials.Load() != 3 {
		t.Fatalf("GET: %d, dropped %d, dials %d; want 200, 2, 3", a.status, s.Dropped(), dials.Load())
	}
}

// idleClose sends one request on a raw connection, then reports how long
// the server kept the idle connection open, or 0 when it still was after max.
func idleClose(t *testing.T, s *hostile.Server, max time.Duration) time.Duration {
	t.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := io.WriteString(conn, "POST "+u.Path+"/auth/v2/device HTTP/1.1\r\nHost: "+u.Host+"\r\nContent-Length: 0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Close {
		t.Fatalf("device start: %d close=%v", resp.StatusCode, resp.Close)
	}
	start := time.Now()
	conn.SetReadDeadline(start.Add(max))
	_, err = br.ReadByte()
	switch {
	case errors.Is(err, io.EOF):
		return time.Since(start)
	case errors.Is(err, os.ErrDeadlineExceeded):
		return 0
	}
	t.Fatalf("idle connection: %v", err)
	return 0
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func checkSlowRefresh(t *testing.T, s *hostile.Server) {
	start := time.Now()
	tr := login(t, s)
	if d := time.Since(start); d > hostile.DefaultRefreshDelay {
		t.Fatalf("device login took %v: polls are delayed too", d)
	}
	const delay = 1500 * time.Millisecond
	s.SetRefreshDelay(delay)
	c := noRedirect(s)

	type result struct {
		a    answer
		took time.Duration
	}
	refresh := func(token string) <-chan result {
		ch := make(chan result, 1)
		go func() {
			start := time.Now()
			resp, err := c.Do(formRequest(t, context.Background(), tokenURL(s), url.Values{"refresh-token": {token}}))
			if err != nil {
				t.Errorf("refresh: %v", err)
				close(ch)
				return
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			ch <- result{answer{status: resp.StatusCode, body: string(b)}, time.Since(start)}
		}()
		return ch
	}

	first := refresh(tr.RefreshToken)
	waitFor(t, "the first refresh to start", func() bool { return s.RefreshesStarted() == 1 })
	// The old refresh token is already consumed while the answer is held back.
	second := refresh(tr.RefreshToken)
	waitFor(t, "the second refresh to start", func() bool { return s.RefreshesStarted() == 2 })
	if n := s.RefreshesAnswered(); n != 0 {
		t.Fatalf("answered %d refreshes before the delay", n)
	}
	select {
	case <-first:
		t.Fatal("first refresh answered before the delay")
	default:
	}

	r1, r2 := <-first, <-second
	if r1.a.status != http.StatusOK || r1.took < delay {
		t.Fatalf("first refresh: %d %s after %v", r1.a.status, r1.a.body, r1.took)
	}
	var rotated pyauthserver.TokenResponse
	if err := json.Unmarshal([]byte(r1.a.body), &rotated); err != nil || rotated.RefreshToken == tr.RefreshToken || !s.Py().Valid(rotated.AccessToken) {
		t.Fatalf("first refresh body %s: %v", r1.a.body, err)
	}
	if code, desc := upstreamDetail(t, r2.a.body); r2.a.status != http.StatusBadRequest || code != "invalid_grant" || desc != "Token is not active" {
		t.Fatalf("second refresh with the consumed token: %d %s", r2.a.status, r2.a.body)
	}
	if s.RefreshesAnswered() != 2 {
		t.Fatalf("answered %d, want 2", s.RefreshesAnswered())
	}

	// A client that goes away during the delay has still consumed its token.
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	if resp, err := c.Do(formRequest(t, ctx, tokenURL(s), url.Values{"refresh-token": {rotated.RefreshToken}})); err == nil {
		resp.Body.Close()
		t.Fatalf("abandoned refresh answered %d", resp.StatusCode)
	}
	if s.RefreshesStarted() != 3 || s.RefreshesAnswered() != 2 {
		t.Fatalf("started %d answered %d, want 3 2", s.RefreshesStarted(), s.RefreshesAnswered())
	}
	s.SetRefreshDelay(0)
	a := post(t, c, tokenURL(s), url.Values{"refresh-token": {rotated.RefreshToken}})
	if code, _ := upstreamDetail(t, a.body); code != "invalid_grant" {
		t.Fatalf("refresh with the abandoned token: %d %s", a.status, a.body)
	}
}

func TestModes(t *testing.T) {
	t.Parallel()
	for _, m := range hostile.Modes() {
		check := checks[m]
		if check == nil {
			t.Errorf("mode %s has no check", m)
			continue
		}
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			s := hostile.Start(t, m, pyauthserver.Options{})
			if s.Mode() != m || !strings.HasPrefix(s.URL(), "http://127.0.0.1:") || !strings.HasSuffix(s.URL(), hostile.DefaultPrefix) {
				t.Fatalf("mode %s at %s", s.Mode(), s.URL())
			}
			if !strings.HasPrefix(s.Evil().URL(), "http://127.0.0.1:") || s.Evil().URL() == s.URL() {
				t.Fatalf("evil at %s", s.Evil().URL())
			}
			check(t, s)
		})
	}
	if len(checks) != len(hostile.Modes()) {
		t.Errorf("%d checks for %d modes", len(checks), len(hostile.Modes()))
	}
}

// tlsClient trusts only the CertPEM of s.
func tlsClient(t *testing.T, s *hostile.Server, follow bool) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(s.CertPEM()) {
		t.Fatalf("CertPEM %q", s.CertPEM())
	}
	tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
	t.Cleanup(tr.CloseIdleConnections)
	c := &http.Client{Transport: tr}
	if !follow {
		c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	}
	return c
}

func TestStartTLS(t *testing.T) {
	t.Parallel()
	for _, m := range []hostile.Mode{hostile.RedirectToken307, hostile.RedirectToken308, hostile.RedirectToken302} {
		t.Run(string(m), func(t *testing.T) {
			t.Parallel()
			s := hostile.StartTLS(t, m, pyauthserver.Options{})
			if !strings.HasPrefix(s.URL(), "https://127.0.0.1:") || !strings.HasPrefix(s.StealURL(), "http://127.0.0.1:") {
				t.Fatalf("server %s, steal %s", s.URL(), s.StealURL())
			}
			c := tlsClient(t, s, false)
			a := post(t, c, deviceURL(s), nil)
			dc := decodeObject(t, a.body)["device_code"].(string)
			a = post(t, c, tokenURL(s), url.Values{"device-code": {dc}})
			if a.status < 300 || a.status > 399 || a.header.Get("Location") != s.StealURL() {
				t.Fatalf("poll: %d %v", a.status, a.header)
			}
			noEvil(t, s)
			// net/http follows the https→http downgrade.
			post(t, tlsClient(t, s, true), tokenURL(s), url.Values{"device-code": {dc}})
			if reqs := s.Evil().Requests(); len(reqs) != 1 {
				t.Fatalf("evil got %+v", reqs)
			}
		})
	}
	t.Run(string(hostile.DropReusedConnection), func(t *testing.T) {
		t.Parallel()
		checkDropReused(t, hostile.StartTLS(t, hostile.DropReusedConnection, pyauthserver.Options{}))
	})
}

func TestSetMode(t *testing.T) {
	t.Parallel()
	s := hostile.Start(t, hostile.WellBehaved, pyauthserver.Options{})
	tr := login(t, s)
	s.SetMode(hostile.EchoSecrets)
	a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {tr.RefreshToken}})
	if _, desc := upstreamDetail(t, a.body); !strings.Contains(desc, "refresh-token="+tr.RefreshToken) {
		t.Fatalf("echo: %d %s", a.status, a.body)
	}
	s.SetMode(hostile.RedirectToken307)
	a = post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {tr.RefreshToken}})
	if a.status != http.StatusTemporaryRedirect {
		t.Fatalf("redirect: %d %s", a.status, a.body)
	}
	// The refresh token was never used: the hostile answers did not reach the wrapped server.
	s.SetMode(hostile.WellBehaved)
	if a := post(t, noRedirect(s), tokenURL(s), url.Values{"refresh-token": {tr.RefreshToken}}); a.status != http.StatusOK {
		t.Fatalf("refresh: %d %s", a.status, a.body)
	}
	defer func() {
		if recover() == nil {
			t.Fatal("SetMode of an unknown mode did not panic")
		}
	}()
	s.SetMode("no-such-mode")
}

func TestOptions(t *testing.T) {
	t.Parallel()
	t.Run("prefix and interval", func(t *testing.T) {
		t.Parallel()
		s := hostile.Start(t, hostile.WellBehaved, pyauthserver.Options{Prefix: "/", Interval: 3})
		if u, _ := url.Parse(s.URL()); u.Path != "" {
			t.Fatalf("URL %s has a prefix", s.URL())
		}
		wantNumber(t, startDevice(t, s), "interval", "3")
	})
	t.Run("idle timeout", func(t *testing.T) {
		t.Parallel()
		s := hostile.Start(t, hostile.IdleTimeout, pyauthserver.Options{IdleTimeout: 300 * time.Millisecond})
		if d := idleClose(t, s, 3*time.Second); d < 250*time.Millisecond || d > 1500*time.Millisecond {
			t.Fatalf("closed after %v, want about 300ms", d)
		}
	})
	t.Run("no idle timeout otherwise", func(t *testing.T) {
		t.Parallel()
		s := hostile.Start(t, hostile.WellBehaved, pyauthserver.Options{})
		if d := idleClose(t, s, 2*time.Second); d != 0 {
			t.Fatalf("well-behaved server closed an idle connection after %v", d)
		}
	})
	t.Run("caller's wrap and conn context", func(t *testing.T) {
		t.Parallel()
		var wrapped, conns atomic.Int64
		s := hostile.Start(t, hostile.RedirectToken307, pyauthserver.Options{
			Wrap: func(next http.Handler) http.Handler {
				return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					wrapped.Add(1)
					next.ServeHTTP(w, r)
				})
			},
			ConnContext: func(ctx context.Context, _ net.Conn) context.Context {
				conns.Add(1)
				return ctx
			},
		})
		startDevice(t, s)
		post(t, noRedirect(s), tokenURL(s), url.Values{"device-code": {"x"}})
		// The redirect is answered in front of the caller's wrap.
		if wrapped.Load() != 1 || conns.Load() < 1 {
			t.Fatalf("wrap saw %d requests, conn context %d connections", wrapped.Load(), conns.Load())
		}
	})
}

func TestRecorder(t *testing.T) {
	t.Parallel()
	rec := hostile.StartRecorder(t)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPut, rec.URL()+"/a/b?c=d&e=f", bytes.NewReader([]byte("k=v&secret=s3")))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer tok")
	a := do(t, http.DefaultClient, req)
	var tr pyauthserver.TokenResponse
	if err := json.Unmarshal([]byte(a.body), &tr); err != nil || a.status != http.StatusOK {
		t.Fatalf("answer %d %s: %v", a.status, a.body, err)
	}
	now := time.Now().Unix()
	if !strings.HasPrefix(tr.AccessToken, hostile.EvilAccessPrefix) || !strings.HasPrefix(tr.RefreshToken, hostile.EvilRefreshPrefix) ||
		tr.TokenType != "Bearer" || tr.Expires < now+3590 || tr.Expires > now+3610 || tr.RefreshExpires < now+7190 || tr.RefreshExpires > now+7210 {
		t.Fatalf("answer %s", a.body)
	}
	reqs := rec.Requests()
	if len(reqs) != 1 {
		t.Fatalf("requests %+v", reqs)
	}
	r := reqs[0]
	if r.Method != http.MethodPut || r.Path != "/a/b" || r.RawQuery != "c=d&e=f" || r.Body != "k=v&secret=s3" ||
		r.Header.Get("Authorization") != "Bearer tok" || r.Form().Get("secret") != "s3" {
		t.Fatalf("request %+v", r)
	}
}

func TestEcho(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"empty", url.Values{}, ""},
		{"short", url.Values{"device-code": {"abc"}}, "device-code=abc device-code=abc abc"},
		{"sorted, repeated", url.Values{"b": {"1", "2"}, "a": {"x y"}}, "a=x y a=x+y x y b=1 b=1 1 b=2 b=2 2"},
		{"runes", url.Values{"t": {"äöü-0123456789abcdefghij"}}, "t=äöü-0123456789abcdefghij t=%C3%A4%C3%B6%C3%BC-0123456789abcdefghij äöü-0123456789abcdef"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := hostile.Echo(tt.form); got != tt.want {
				t.Fatalf("Echo(%v) = %q, want %q", tt.form, got, tt.want)
			}
		})
	}
}

func TestModeValid(t *testing.T) {
	t.Parallel()
	seen := map[hostile.Mode]bool{}
	for _, m := range hostile.Modes() {
		if !m.Valid() || seen[m] || m.String() != string(m) {
			t.Fatalf("mode %q", m)
		}
		seen[m] = true
	}
	if hostile.Mode("nope").Valid() {
		t.Fatal("unknown mode valid")
	}
}
