package flows

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"sync"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrLoginRequired means no usable token can be had without a person:
	// the caller must run an interactive login.
	ErrLoginRequired = errors.New("flows: login required")
	// ErrSessionExpired means the server rejected the refresh token (RFC 6749
	// §5.2 invalid_grant, or a py-oidc-auth 401): log in again.
	ErrSessionExpired = errors.New("flows: the server no longer accepts the stored login")
	// ErrAccessDenied means the user or the provider refused the login
	// (RFC 8628 §3.5 access_denied, or an error on the code flow callback).
	ErrAccessDenied = errors.New("flows: access denied")
	// ErrExpiredToken means the device code expired before the user approved
	// it (RFC 8628 §3.5 expired_token).
	ErrExpiredToken = errors.New("flows: the device code expired")
	// ErrNoDeviceFlow means the server does not offer the device flow (its
	// device route answers 405 or 501, or 502 naming the missing
	// device_authorization_endpoint, as py-oidc-auth servers do).
	ErrNoDeviceFlow = errors.New("flows: the server has no device flow")
)

// ServerError is an error answer from a py-oidc-auth server or a proxy in
// front of it. Code is the RFC 6749 §5.2 / RFC 8628 §3.5 error code when one
// could be found in any of the shapes real servers send:
//
//	{"error": "slow_down", "error_description": "…"}
//	{"detail": "Upstream OIDC error: {\"error\":\"slow_down\"}"}
//	{"detail": {"error": "slow_down"}}
//	{"detail": "Session expired or not found. Please re-authenticate."}
//	{"detail": ""}, {"detail": [{"loc": …, "msg": …}]}, or an HTML page.
type ServerError struct {
	// URL is the endpoint that answered (it never carries a secret).
	URL string
	// Status is the HTTP status code.
	Status int
	// Code is the RFC error code, or "" when the answer carried none.
	Code string
	// Description is the human-readable text the answer carried, shortened
	// and on one line.
	Description string
}

// Error names the endpoint, the status and what the answer said.
func (e *ServerError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s answered %d %s", e.URL, e.Status, http.StatusText(e.Status))
	switch {
	case e.Code != "" && e.Description != "":
		fmt.Fprintf(&b, ": %s (%s)", e.Code, e.Description)
	case e.Code != "":
		fmt.Fprintf(&b, ": %s", e.Code)
	case e.Description != "":
		fmt.Fprintf(&b, ": %s", e.Description)
	}
	return b.String()
}

// maxDescription bounds the text kept from an error body.
const maxDescription = 200

// parseServerError decodes an error answer in any of the shapes that
// ServerError lists.
// Whatever the server wrote is masked of the secrets sec holds, stripped of
// terminal controls and shortened: servers echo requests in their errors.
func parseServerError(endpoint string, status int, contentType string, body []byte, sec secrets) *ServerError {
	e := &ServerError{URL: endpoint, Status: status}
	var m map[string]json.RawMessage
	switch {
	case json.Unmarshal(bytes.TrimSpace(body), &m) == nil && m != nil:
		e.Code, e.Description = errorFields(body, 0)
		if looksHTML("", []byte(strings.TrimSpace(e.Description))) {
			e.Description = htmlTitle([]byte(e.Description), nil)
		}
	case looksHTML(contentType, body):
		e.Description = htmlTitle(body, nil)
	default:
		e.Description = string(body)
	}
	if !errorCodeRE().MatchString(e.Code) {
		// Not an RFC 6749 error code: keep it as text, never as a code
		// that callers branch on.
		e.Description = strings.TrimSpace(e.Code + " " + e.Description)
		e.Code = ""
	}
	e.Description = sec.quote(e.Description)
	return e
}

// errorCodeRE matches the RFC 6749 §5.2 error codes servers send
// (invalid_grant, slow_down, …), or nothing.
var errorCodeRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^([a-z0-9_.-]{1,64})?$`) })

// errorFields takes the error code and text out of a JSON error body. An
// "Upstream OIDC error: <body>" detail is unwrapped once.
func errorFields(body []byte, depth int) (code, desc string) {
	var m map[string]json.RawMessage
	if json.Unmarshal(bytes.TrimSpace(body), &m) != nil {
		return "", ""
	}
	if raw, ok := m["error"]; ok {
		code = jsonString(raw)
		desc = jsonString(m["error_description"])
		if code != "" {
			return code, desc
		}
	}
	raw, ok := m["detail"]
	if !ok {
		return "", desc
	}
	switch d := bytes.TrimSpace(raw); {
	case len(d) > 0 && d[0] == '"':
		text := strings.TrimSpace(jsonString(d))
		inner := text
		if i := strings.Index(text, "Upstream OIDC error:"); i >= 0 {
			inner = strings.TrimSpace(text[i+len("Upstream OIDC error:"):])
		}
		if depth == 0 && strings.HasPrefix(inner, "{") {
			if c, ds := errorFields([]byte(inner), depth+1); c != "" {
				return c, ds
			}
		}
		if looksHTML("", []byte(inner)) {
			return "", htmlTitle([]byte(inner), nil)
		}
		return "", text
	case len(d) > 0 && d[0] == '{':
		if depth == 0 {
			return errorFields(d, depth+1)
		}
	case len(d) > 0 && d[0] == '[':
		var items []struct {
			Loc []any  `json:"loc"`
			Msg string `json:"msg"`
		}
		if json.Unmarshal(d, &items) == nil {
			var msgs []string
			for _, it := range items {
				msg := it.Msg
				if len(it.Loc) > 0 {
					msg = fmt.Sprint(it.Loc[len(it.Loc)-1]) + ": " + msg
				}
				msgs = append(msgs, msg)
			}
			return "", strings.Join(msgs, "; ")
		}
	}
	return "", ""
}

func jsonString(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return ""
	}
	return s
}

// looksHTML reports whether a body is an HTML page rather than data.
func looksHTML(contentType string, body []byte) bool {
	if mt, _, err := mime.ParseMediaType(contentType); err == nil && mt == "text/html" {
		return true
	}
	b := bytes.ToLower(bytes.TrimSpace(body[:min(len(body), 512)]))
	return bytes.HasPrefix(b, []byte("<!doctype html")) || bytes.HasPrefix(b, []byte("<html"))
}

var (
	titleRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`) })
	h1RE    = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<h1[^>]*>(.*?)</h1>`) })
	tagRE   = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?s)<[^>]*>`) })
)

// htmlTitle describes an HTML page by its title or first heading, never by
// its whole text, with the secrets of sec masked.
func htmlTitle(body []byte, sec secrets) string {
	for _, re := range []*regexp.Regexp{titleRE(), h1RE()} {
		if m := re.FindSubmatch(body); m != nil {
			if t := sec.quote(html.UnescapeString(tagRE().ReplaceAllString(string(m[1]), " "))); t != "" {
				return "an HTML page titled " + fmt.Sprintf("%q", t)
			}
		}
	}
	return "an HTML page"
}

// oneLine makes s one safe line for an error message: terminal controls
// removed (see terminalSafe), whitespace collapsed, at most maxDescription
// characters.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(terminalSafe(s)), " ")
	if r := []rune(s); len(r) > maxDescription {
		s = string(r[:maxDescription]) + "…"
	}
	return s
}
