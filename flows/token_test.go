package flows

import (
	"testing"
	"time"
)

func TestParseToken(t *testing.T) {
	t.Parallel()
	now := time.Unix(1_767_225_000, 0)
	tests := []struct {
		name                 string
		body                 string
		wantType             string
		wantExp, wantRefresh int64
		wantRefreshToken     string
		wantHeader           string
	}{
		{
			name:     "reference shape",
			body:     `{"access_token":"a","token_type":"Bearer","expires":1767225600,"refresh_token":"r","refresh_expires":1767229200,"scope":"openid"}`,
			wantType: "Bearer", wantExp: 1767225600, wantRefresh: 1767229200, wantRefreshToken: "r", wantHeader: "Bearer a",
		},
		{
			name:     "lowercase bearer from Dex",
			body:     `{"access_token":"a","token_type":"bearer","expires":1767225600}`,
			wantType: "bearer", wantExp: 1767225600, wantHeader: "Bearer a",
		},
		{
			name:     "aliases exp and refresh_exp",
			body:     `{"access_token":"a","exp":1767225601,"refresh_token":"r","refresh_exp":1767225602}`,
			wantType: "Bearer", wantExp: 1767225601, wantRefresh: 1767225602, wantRefreshToken: "r", wantHeader: "Bearer a",
		},
		{
			name:     "aliases expires_at and refresh_expires_at",
			body:     `{"access_token":"a","expires_at":1767225603,"refresh_token":"r","refresh_expires_at":1767225604}`,
			wantType: "Bearer", wantExp: 1767225603, wantRefresh: 1767225604, wantRefreshToken: "r", wantHeader: "Bearer a",
		},
		{
			name:     "relative lifetimes",
			body:     `{"access_token":"a","expires_in":300,"refresh_token":"r","refresh_expires_in":"1800"}`,
			wantType: "Bearer", wantExp: 1_767_225_300, wantRefresh: 1_767_226_800, wantRefreshToken: "r", wantHeader: "Bearer a",
		},
		{
			name:     "no lifetimes default to 180 s",
			body:     `{"access_token":"a","refresh_token":"r"}`,
			wantType: "Bearer", wantExp: 1_767_225_180, wantRefresh: 1_767_225_180, wantRefreshToken: "r", wantHeader: "Bearer a",
		},
		{
			name:     "float expiry",
			body:     `{"access_token":"a","expires":1767225600.9}`,
			wantType: "Bearer", wantExp: 1767225600, wantHeader: "Bearer a",
		},
		{
			name:     "broker mode: same token, refresh expiring first",
			body:     `{"access_token":"jwt","refresh_token":"jwt","expires":1769817000,"refresh_expires":1767225180}`,
			wantType: "Bearer", wantExp: 1769817000, wantRefresh: 1767225180, wantRefreshToken: "jwt", wantHeader: "Bearer jwt",
		},
		{
			name:     "other token type kept in the header",
			body:     `{"access_token":"a","token_type":"DPoP","expires":1767225600}`,
			wantType: "DPoP", wantExp: 1767225600, wantHeader: "DPoP a",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tok, err := ParseToken([]byte(tt.body), now)
			if err != nil {
				t.Fatal(err)
			}
			if tok.TokenType != tt.wantType || tok.Expires != tt.wantExp || tok.RefreshExpires != tt.wantRefresh ||
				tok.RefreshToken != tt.wantRefreshToken || tok.Headers["Authorization"] != tt.wantHeader {
				t.Errorf("got %+v", tok)
			}
		})
	}
}

func TestParseTokenRejects(t *testing.T) {
	t.Parallel()
	for _, body := range []string{
		``, `null`, `[]`, `"x"`, `{}`, `{"access_token":""}`, `{"access_token":7}`,
		`{"access_token":"a","expires":"soon"}`, `{"access_token":"a","expires_in":{}}`,
		`<html></html>`,
		`{"access_token":"a\nhost=evil.example"}`, `{"access_token":"a","refresh_token":"r\u0000"}`,
		`{"access_token":"a","token_type":"Bearer\r\nX: y"}`, `{"access_token":"\u00e4"}`,
	} {
		if tok, err := ParseToken([]byte(body), time.Now()); err == nil {
			t.Errorf("ParseToken(%q) = %+v, want an error", body, tok)
		}
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add([]byte(`{"access_token":"a","expires":1767225600,"refresh_token":"r","refresh_expires":1767229200}`))
	f.Add([]byte(`{"access_token":"a","expires_in":"30"}`))
	f.Add([]byte(`{"access_token":"a","exp":1.5e9}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		tok, err := ParseToken(body, time.Unix(1_767_225_000, 0))
		if err != nil {
			return
		}
		if tok.AccessToken == "" || tok.Headers["Authorization"] == "" {
			t.Fatalf("accepted a token without access token or header: %+v", tok)
		}
	})
}

func TestEndpoint(t *testing.T) {
	t.Parallel()
	tests := []struct{ host, route, want string }{
		{"https://h", "/auth/v2/token", "https://h/auth/v2/token"},
		{"https://h/", "auth/v2/token/", "https://h/auth/v2/token"},
		{"https://h/api/app", "/auth/v2/token", "https://h/api/app/auth/v2/token"},
		{"https://h/api/app/", "//auth/v2/device//", "https://h/api/app/auth/v2/device"},
		{"h.example.org", "/auth/v2/login", "https://h.example.org/auth/v2/login"},
		{"http://127.0.0.1:8080/x", "/auth/v2/login", "http://127.0.0.1:8080/x/auth/v2/login"},
	}
	for _, tt := range tests {
		if got := (Config{Host: tt.host}).Endpoint(tt.route); got != tt.want {
			t.Errorf("Endpoint(%q, %q) = %q, want %q", tt.host, tt.route, got, tt.want)
		}
	}
}

func TestConfigServerRoundTrip(t *testing.T) {
	t.Parallel()
	def := Config{Host: "https://h/api/app/"}.withDefaults()
	s := def.Server()
	if s.Host != "https://h/api/app" || s.LoginRoute != "" || s.TokenRoute != "" || s.DeviceRoute != "" || s.RedirectPorts != nil {
		t.Errorf("default config recorded as %+v, want only the host", s)
	}
	custom := Config{Host: "https://h", TokenRoute: "/t", RedirectPorts: []int{9000}}.withDefaults()
	back := ConfigFromServer(custom.Server()).withDefaults()
	if back.TokenRoute != "/t" || back.LoginRoute != DefaultLoginRoute || len(back.RedirectPorts) != 1 || back.RedirectPorts[0] != 9000 {
		t.Errorf("round trip gave %+v", back)
	}
}
