package pyauthserver

import (
	"bytes"
	"encoding/json"
	"html"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
)

// flask405 is the page Werkzeug sends for 405 Method Not Allowed.
const flask405 = `<!doctype html>
<html lang=en>
<title>405 Method Not Allowed</title>
<h1>Method Not Allowed</h1>
<p>The method is not allowed for the requested URL.</p>
`

// marshal encodes v compactly and without HTML escaping, as Python's
// json.dumps(v, separators=(",", ":"), ensure_ascii=False) does.
func marshal(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		panic("pyauthserver: " + err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// writeBody writes a complete response with an exact Content-Length.
func writeBody(w http.ResponseWriter, status int, contentType string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(status)
	w.Write(body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	writeBody(w, status, "application/json", marshal(v))
}

func writeHTML(w http.ResponseWriter, status int, title, text string) {
	page := "<!doctype html>\n<html lang=en>\n<title>" + html.EscapeString(title) +
		"</title>\n<p>" + html.EscapeString(text) + "</p>\n</html>\n"
	writeBody(w, status, "text/html; charset=utf-8", []byte(page))
}

// WriteDetail writes {"detail": detail} with status, the error shape of
// py-oidc-auth servers; detail is a string, "" or a list of validation objects.
func WriteDetail(w http.ResponseWriter, status int, detail any) {
	writeJSON(w, status, struct {
		Detail any `json:"detail"`
	}{detail})
}

// rfcError is an OAuth 2.0 error body (RFC 6749 §5.2, RFC 8628 §3.5).
type rfcError struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// WriteRFCError writes the RFC 6749 §5.2 error shape
// {"error": code, "error_description": description} with status, as test
// doubles and some proxies send it; an empty description is left out.
func WriteRFCError(w http.ResponseWriter, status int, code, description string) {
	writeJSON(w, status, rfcError{code, description})
}

// UpstreamDetail returns the detail string a py-oidc-auth server makes of a
// provider error: "Upstream OIDC error: " followed by the provider's compact
// JSON body {"error":code,"error_description":description}; an empty
// description is left out.
func UpstreamDetail(code, description string) string {
	return "Upstream OIDC error: " + string(marshal(rfcError{code, description}))
}

// WriteUpstreamError writes a provider error the way py-oidc-auth servers
// pass it on: {"detail":"Upstream OIDC error: {\"error\":…}"} with the
// provider's status.
func WriteUpstreamError(w http.ResponseWriter, status int, code, description string) {
	WriteDetail(w, status, UpstreamDetail(code, description))
}

// ValidationError is one entry of a FastAPI 422 detail list (pydantic v2 shape).
type ValidationError struct {
	Type  string `json:"type"`
	Loc   []any  `json:"loc"`
	Msg   string `json:"msg"`
	Input any    `json:"input"`
}

// WriteValidationError writes FastAPI's 422 Unprocessable Entity body
// {"detail":[…]} listing errs.
func WriteValidationError(w http.ResponseWriter, errs ...ValidationError) {
	if errs == nil {
		errs = []ValidationError{}
	}
	WriteDetail(w, http.StatusUnprocessableEntity, errs)
}

// writeStatus answers a framework-level error in the flavor's shape.
func (s *Server) writeStatus(w http.ResponseWriter, status int) {
	switch {
	case status == http.StatusNotFound && s.opts.Flavor == Flask:
		WriteDetail(w, status, "")
	case status == http.StatusMethodNotAllowed && s.opts.Flavor == Flask:
		writeBody(w, status, "text/html; charset=utf-8", []byte(flask405))
	case status == http.StatusServiceUnavailable:
		WriteDetail(w, status, "Device flow is not supported by the identity provider.")
	default:
		WriteDetail(w, status, http.StatusText(status))
	}
}

// isForm reports whether a Content-Type header names a URL-encoded form.
func isForm(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	return err == nil && mt == "application/x-www-form-urlencoded"
}

// readForm parses a POST body that must be application/x-www-form-urlencoded.
// Any other declared type, or a body without a type, is answered with 422 in
// FastAPI's shape: a client must never send JSON. A request without body or
// type is an empty form.
func (s *Server) readForm(w http.ResponseWriter, r *http.Request) (url.Values, bool) {
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody))
	if err != nil {
		WriteDetail(w, http.StatusBadRequest, "Could not read request body.")
		return nil, false
	}
	ct := r.Header.Get("Content-Type")
	if (ct == "" && len(body) > 0) || (ct != "" && !isForm(ct)) {
		WriteValidationError(w, ValidationError{
			Type:  "value_error",
			Loc:   []any{"body"},
			Msg:   "Value error, expected application/x-www-form-urlencoded form data",
			Input: ct,
		})
		return nil, false
	}
	form, err := url.ParseQuery(string(body))
	if err != nil {
		WriteValidationError(w, ValidationError{
			Type:  "value_error",
			Loc:   []any{"body"},
			Msg:   "Value error, malformed form data",
			Input: string(body),
		})
		return nil, false
	}
	return form, true
}
