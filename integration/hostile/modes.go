package hostile

import "slices"

// Mode selects the one way in which a Server misbehaves. Every route a mode
// does not mention is answered by the wrapped well-behaved server.
type Mode string

// Redirects: a secret must never follow a redirect and nothing may be stored.
// Every redirect points at StealURL, on the Evil recorder.
const (
	// RedirectToken307 answers every request to the token route (device
	// poll, refresh, code exchange) with 307 Temporary Redirect to StealURL,
	// which a following client would repeat as a POST with the secret form.
	RedirectToken307 Mode = "redirect-token-307"
	// RedirectToken308 is RedirectToken307 with 308 Permanent Redirect.
	RedirectToken308 Mode = "redirect-token-308"
	// RedirectToken302 answers every token-route request with 302 Found to
	// StealURL: Go's client would turn the POST into a GET and take the Evil
	// recorder's token answer as the login.
	RedirectToken302 Mode = "redirect-token-302"
	// RedirectDevice307 answers the device-start route with 307 to StealURL.
	RedirectDevice307 Mode = "redirect-device-307"
)

// Secrets echoed in error answers: a client must not show them.
const (
	// EchoSecrets answers every token-route request with 400
	// {"detail":"Upstream OIDC error: {\"error\":\"invalid_request\",\"error_description\":\"invalid token in request: <echo>\"}"},
	// where <echo> is Echo of the form received. Device start is normal.
	EchoSecrets Mode = "echo-secrets"
	// EchoSecretsRFC answers every token-route request with 400 in the RFC
	// 6749 §5.2 shape {"error":"invalid_grant","error_description":"invalid token in request: <echo>"}.
	EchoSecretsRFC Mode = "echo-secrets-rfc"
	// EchoSecretsHTML answers every token-route request with 500 text/html
	// whose <title> (and a paragraph) hold "invalid token in request: <echo>",
	// HTML-escaped.
	EchoSecretsHTML Mode = "echo-secrets-html"
)

// Terminal injection: escape and control characters must never reach a
// terminal. The device flow otherwise works with the wrapped server's
// default plan (one authorization_pending, then approval).
const (
	// EscapeUserCode answers device start with user_code EvilUserCode; the
	// device_code and verification URIs are the wrapped server's.
	EscapeUserCode Mode = "escape-user-code"
	// EscapeVerificationURI answers device start with verification_uri
	// EvilVerificationURI and verification_uri_complete null, so a client has
	// only the bad URI to show.
	EscapeVerificationURI Mode = "escape-verification-uri"
	// EscapeVerificationURIComplete answers device start with the clean
	// verification_uri and a verification_uri_complete that is the wrapped
	// server's followed by EvilURISuffix (an OSC 8 hyperlink to the Evil
	// recorder, a screen clear and a title change).
	EscapeVerificationURIComplete Mode = "escape-verification-uri-complete"
	// NonHTTPVerificationURI answers device start with verification_uri
	// JavaScriptURI and verification_uri_complete FileURI: neither may be
	// shown as a link to open or be handed to a browser.
	NonHTTPVerificationURI Mode = "non-http-verification-uri"
	// EscapeErrorDescription starts the device flow normally and answers
	// every device poll with 400 upstream error access_denied whose
	// error_description is EvilErrorDescription. Refresh and code exchange
	// are normal.
	EscapeErrorDescription Mode = "escape-error-description"
	// EscapeHTMLTitle answers device start with 500 text/html whose <title>
	// is EvilHTMLTitle: HTML character references of ESC, BEL and C1 CSI
	// beside raw ESC bytes.
	EscapeHTMLTitle Mode = "escape-html-title"
)

// Numbers that a client must clamp. In each of these the device flow is
// approved at the first poll, so the client gets a token to judge.
const (
	// HugeInterval answers device start with "interval": 1000000000000.
	HugeInterval Mode = "huge-interval"
	// NegativeInterval answers device start with "interval": -5.
	NegativeInterval Mode = "negative-interval"
	// HugeDeviceExpiry answers device start with "expires_in": 1000000000000.
	HugeDeviceExpiry Mode = "huge-device-expiry"
	// TokenExpiresInPast sets "expires" of every successful token-route
	// answer (device poll, refresh, code exchange) to now-3600 s; the tokens
	// themselves are the wrapped server's and valid there.
	TokenExpiresInPast Mode = "token-expires-in-past"
	// TokenExpiresFarFuture sets "expires" and "refresh_expires" of every
	// successful token-route answer to now + 50 years.
	TokenExpiresFarFuture Mode = "token-expires-far-future"
	// TokenHugeExpiresIn removes "expires" and "refresh_expires" from every
	// successful token-route answer and sends "expires_in" and
	// "refresh_expires_in" of 1000000000000000000 s instead (more than
	// time.Duration holds).
	TokenHugeExpiresIn Mode = "token-huge-expires-in"
)

// Wrong server URL or no device flow, all on the device-start route only.
const (
	// Device404JSON answers device start with 404 {"detail":"Not Found"}
	// (FastAPI): a wrong URL, not a reason to fall back to the code flow.
	Device404JSON Mode = "device-404-json"
	// Device404HTML answers device start with 404 and Werkzeug's HTML page.
	Device404HTML Mode = "device-404-html"
	// DeviceNoDeviceFlow502 answers device start with 502
	// {"detail": NoDeviceFlowDetail}, exactly what a real py-oidc-auth
	// server sends when its provider has no device endpoint; the code-flow
	// login route keeps working, so a client can fall back.
	DeviceNoDeviceFlow502 Mode = "device-no-device-flow-502"
	// Device502Other answers device start with 502
	// {"detail":"Failed to contact OIDC endpoint: timeout"}: an outage, not
	// a reason to fall back.
	Device502Other Mode = "device-502-other"
	// Device501 answers device start with 501 {"detail":"Not Implemented"}.
	Device501 Mode = "device-501"
	// Device405 answers device start with 405 {"detail":"Method Not Allowed"}
	// and Allow: GET, as FastAPI does.
	Device405 Mode = "device-405"
)

// Connections.
const (
	// DropReusedConnection serves one request per connection normally (its
	// answer has no Connection: close, so a client pools the connection); a
	// further request on the same connection is read in full and then the
	// connection is reset (SO_LINGER 0) without an answer, as when a server
	// closes a pooled connection just as the client reuses it. Go's client
	// does not retry a POST on its own, so a naive client fails with EOF or
	// "connection reset by peer". Dropped counts such requests.
	DropReusedConnection Mode = "drop-reused-connection"
	// IdleTimeout closes keep-alive connections that stay idle longer than
	// the poll interval (Options.IdleTimeout, default Options.Interval
	// seconds), as uvicorn closes them after 5 s while Dex asks for a 5 s
	// interval. Answers are otherwise normal. The timeout is set when the
	// server starts, so SetMode cannot switch it on or off.
	IdleTimeout Mode = "idle-timeout"
)

// Code flow and refresh.
const (
	// LoginNoRedirect answers the login route with 200 and an HTML login
	// page instead of a redirect to the provider, and device start with 502
	// NoDeviceFlowDetail, so that --flow auto goes to the code flow.
	LoginNoRedirect Mode = "login-no-redirect"
	// SlowRefresh lets the wrapped server process every refresh (a token
	// form with refresh-token and no code) at once, so the old refresh token
	// is consumed and a new pair issued, and writes the answer only after
	// the refresh delay (SetRefreshDelay, default DefaultRefreshDelay) or
	// when the client goes away. RefreshesStarted and RefreshesAnswered
	// count both events.
	SlowRefresh Mode = "slow-refresh"
)

// WellBehaved is the control mode: every answer is the wrapped server's, and
// the Server still records what it is sent. Use it with SetMode to log in
// normally before switching to a hostile mode.
const WellBehaved Mode = "well-behaved"

// modes lists every mode in documentation order.
var modes = []Mode{
	WellBehaved,
	RedirectToken307, RedirectToken308, RedirectToken302, RedirectDevice307,
	EchoSecrets, EchoSecretsRFC, EchoSecretsHTML,
	EscapeUserCode, EscapeVerificationURI, EscapeVerificationURIComplete,
	NonHTTPVerificationURI, EscapeErrorDescription, EscapeHTMLTitle,
	HugeInterval, NegativeInterval, HugeDeviceExpiry,
	TokenExpiresInPast, TokenExpiresFarFuture, TokenHugeExpiresIn,
	Device404JSON, Device404HTML, DeviceNoDeviceFlow502, Device502Other, Device501, Device405,
	DropReusedConnection, IdleTimeout,
	LoginNoRedirect, SlowRefresh,
}

// Modes returns every mode, WellBehaved first, for table tests.
func Modes() []Mode { return slices.Clone(modes) }

// Valid reports whether m is one of the documented modes.
func (m Mode) Valid() bool { return slices.Contains(modes, m) }

// String returns the mode's name.
func (m Mode) String() string { return string(m) }

// Values the hostile modes send, for tests to look for on a terminal or in
// a token store.
const (
	// EvilUserCode is the user_code of EscapeUserCode: an OSC title change,
	// BEL, then "ABCD" and a screen clear.
	EvilUserCode = "\x1b]0;owned\x07ABCD\x1b[2J"
	// EvilVerificationURI is the verification_uri of EscapeVerificationURI.
	EvilVerificationURI = "https://127.0.0.1/device\x1b[31m"
	// EvilURISuffix is appended to verification_uri_complete by
	// EscapeVerificationURIComplete, after "&x=" and the Evil recorder's URL
	// as an OSC 8 hyperlink target: "&x=\x1b]8;;<evil>/phish\x07click\x1b]8;;\x07" + EvilURISuffix.
	EvilURISuffix = "\x1b[2J\x1b]0;owned\x07"
	// JavaScriptURI is the verification_uri of NonHTTPVerificationURI.
	JavaScriptURI = "javascript:alert(1)"
	// FileURI is the verification_uri_complete of NonHTTPVerificationURI.
	FileURI = "file:///etc/passwd"
	// EvilErrorDescription is the access_denied description of
	// EscapeErrorDescription: CSI and OSC escapes, a C1 CSI (U+009B), BEL,
	// backspaces, a carriage return that would overwrite the line, and a
	// right-to-left override (U+202E).
	EvilErrorDescription = "denied\x1b[2J\x1b[H\x1b]0;owned\x07 \u009b31mred\u009b0m \x07bell \b\b\b\bX\rFAKE: login ok \u202etxt.exe"
	// EvilHTMLTitle is the <title> of EscapeHTMLTitle's page, written as is:
	// character references of ESC (&#27; and &#x1b;), BEL (&#7;) and C1 CSI
	// (&#155;, which HTML5 decoders such as html.UnescapeString turn into
	// U+203A) beside a raw ESC sequence and a raw C1 CSI (U+009B).
	EvilHTMLTitle = "Error &#27;[2J&#x1b;]0;owned&#7; &#155;31m \x1b[31mraw\x1b[0m \u009b7m"
	// NoDeviceFlowDetail is the detail a real py-oidc-auth server sends with
	// 502 when its provider has no device authorization endpoint.
	NoDeviceFlowDetail = "OIDC endpoint 'device_authorization_endpoint' not found in discovery."
	// ContactFailedDetail is the detail of Device502Other.
	ContactFailedDetail = "Failed to contact OIDC endpoint: timeout"
	// EchoPrefix starts the error description of the EchoSecrets* modes.
	EchoPrefix = "invalid token in request: "
	// StealPath is the path and query on the Evil recorder that redirects
	// point at.
	StealPath = "/steal?x=1"
)

// Numbers the hostile modes send.
const (
	// HugeSeconds is the interval of HugeInterval and the expires_in of
	// HugeDeviceExpiry: 10^12 s, some 31,700 years.
	HugeSeconds int64 = 1_000_000_000_000
	// NegativeSeconds is the interval of NegativeInterval.
	NegativeSeconds int64 = -5
	// HugeExpiresIn is the expires_in and refresh_expires_in of
	// TokenHugeExpiresIn: 10^18 s, beyond time.Duration's range.
	HugeExpiresIn int64 = 1_000_000_000_000_000_000
)
