package flows

import (
	"strings"
	"testing"
)

func TestParseServerError(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		contentType string
		body        string
		code        string
		desc        string
	}{
		{"RFC shape", 400, "application/json", `{"error":"slow_down","error_description":"poll less"}`, "slow_down", "poll less"},
		{"upstream compact JSON", 400, "application/json", `{"detail":"Upstream OIDC error: {\"error\":\"authorization_pending\"}"}`, "authorization_pending", ""},
		{"upstream JSON with description", 400, "application/json", `{"detail":"Upstream OIDC error: {\"error\":\"invalid_request\",\"error_description\":\"Refresh token is invalid or has already been claimed by another client.\"}"}`, "invalid_request", "Refresh token is invalid or has already been claimed by another client."},
		{"upstream HTML page", 502, "application/json", `{"detail":"Upstream OIDC error: <html><head><title>Bad Gateway</title></head><body>x</body></html>"}`, "", `an HTML page titled "Bad Gateway"`},
		{"upstream plain text", 400, "application/json", `{"detail":"Upstream OIDC error: something broke"}`, "", "Upstream OIDC error: something broke"},
		{"detail object", 400, "application/json", `{"detail":{"error":"expired_token"}}`, "expired_token", ""},
		{"detail text", 401, "application/json", `{"detail":"Session expired or not found. Please re-authenticate."}`, "", "Session expired or not found. Please re-authenticate."},
		{"empty detail (Flask 404)", 404, "application/json", `{"detail":""}`, "", ""},
		{"validation list (FastAPI 422)", 422, "application/json", `{"detail":[{"type":"missing","loc":["body","device-code"],"msg":"Field required"}]}`, "", "device-code: Field required"},
		{"HTML 405 (Flask)", 405, "text/html", "<!doctype html>\n<html lang=en><title>405 Method Not Allowed</title><h1>Method Not Allowed</h1>", "", `an HTML page titled "405 Method Not Allowed"`},
		{"HTML without title", 500, "text/html", "<html><body><p>oops</p></body></html>", "", "an HTML page"},
		{"plain text", 503, "text/plain", "upstream connect error\n or disconnect", "", "upstream connect error or disconnect"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := parseServerError("https://h/auth/v2/token", tt.status, tt.contentType, []byte(tt.body), nil)
			if e.Status != tt.status || e.Code != tt.code || e.Description != tt.desc {
				t.Errorf("got status %d code %q desc %q, want %d %q %q", e.Status, e.Code, e.Description, tt.status, tt.code, tt.desc)
			}
			if msg := e.Error(); strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "https://h/auth/v2/token answered ") {
				t.Errorf("message %q is not one line naming the endpoint", msg)
			}
		})
	}
}

func TestServerErrorIsShortened(t *testing.T) {
	t.Parallel()
	e := parseServerError("https://h/t", 500, "text/plain", []byte(strings.Repeat("x", 5000)), nil)
	if n := len([]rune(e.Description)); n > maxDescription+1 {
		t.Errorf("description has %d runes, want at most %d", n, maxDescription+1)
	}
}

func FuzzParseServerError(f *testing.F) {
	f.Add(400, "application/json", []byte(`{"detail":"Upstream OIDC error: {\"error\":\"slow_down\"}"}`))
	f.Add(422, "application/json", []byte(`{"detail":[{"loc":["body"],"msg":"x"}]}`))
	f.Add(405, "text/html", []byte(`<html><title>t</title></html>`))
	f.Add(400, "", []byte(`{"detail":{"detail":{"error":1}}}`))
	f.Add(400, "application/json", []byte(`{"error":"invalid_grant","error_description":"bad token the-secret-\u001bvalue"}`))
	f.Add(500, "text/html", []byte("<title>the-secret-<b>value</b> \x1b[2J</title>"))
	f.Fuzz(func(t *testing.T, status int, ct string, body []byte) {
		e := parseServerError("https://h/t", status, ct, body, secrets{"the-secret-value"})
		if strings.ContainsAny(e.Error(), "\n\r") {
			t.Fatalf("multi-line message %q", e.Error())
		}
		if len([]rune(e.Description)) > maxDescription+1 {
			t.Fatalf("description too long: %d", len(e.Description))
		}
		if strings.Contains(e.Error(), "the-secret-value") {
			t.Fatalf("the secret leaked: %q", e.Error())
		}
		if !isTerminalSafe(e.Error()) {
			t.Fatalf("terminal controls in %q", e.Error())
		}
	})
}
