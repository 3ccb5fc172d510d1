package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// slowDownStep is what RFC 8628 §3.5 adds to the poll interval on slow_down.
const slowDownStep = 5 * time.Second

// DeviceFlow runs the device authorization grant (RFC 8628) against a
// py-oidc-auth server: it starts a device login, shows the person where to
// approve it, and polls the token route until the login is approved, denied
// or expired, the Config's Timeout passes, or ctx ends.
type DeviceFlow struct {
	// Config describes the server.
	Config Config
	// Out receives the messages for the person (the verification URL and
	// code, and a QR code of the URL when Out is a terminal with room for
	// it). Nil discards them.
	Out io.Writer
	// Browser, when set, is started on the verification URL as well (see
	// OpenBrowser); Login sets it where a desktop browser can open. Nil
	// opens no browser.
	Browser func(url string) error

	// screen overrides what Out is taken for (terminal, size); nil looks
	// at Out.
	screen *screen

	// wait sleeps for d or until ctx ends; nil means a real timer. Tests
	// replace it to observe the poll schedule without sleeping.
	wait func(ctx context.Context, d time.Duration) error
	// now returns the current time; nil means time.Now.
	now func() time.Time
}

// DeviceAuthorization is the server's answer to starting a device login
// (RFC 8628 §3.2).
type DeviceAuthorization struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	// ExpiresIn is the lifetime of the device code in seconds.
	ExpiresIn json.Number `json:"expires_in"`
	// Interval is the minimum poll interval in seconds; default 5.
	Interval json.Number `json:"interval"`
}

// Run performs the device flow and returns the new token.
func (f *DeviceFlow) Run(ctx context.Context) (*Token, error) {
	cfg := f.Config.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeoutCause(ctx, cfg.Timeout, timeoutError(cfg.Timeout))
	defer cancel()
	if cfg.isIssuer() {
		return f.issuerDevice(ctx, cfg)
	}

	da, err := f.start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	expiresIn := clampSeconds(da.ExpiresIn, 0, maxDeviceExpiry)
	every := clampSeconds(da.Interval, defaultInterval, maxInterval)
	deadline := f.clock().Add(expiresIn)
	stop := f.present(ctx, cfg, da.VerificationURIComplete, da.VerificationURI, da.UserCode, deadline)
	defer stop()

	tokenURL := cfg.Endpoint(cfg.TokenRoute)
	for {
		body, err := postForm(ctx, cfg, tokenURL, url.Values{"device-code": {da.DeviceCode}}, nil)
		if err == nil {
			tok, err := ParseToken(body, f.clock())
			if err != nil {
				return nil, fmt.Errorf("flows: %s: %v", tokenURL, err)
			}
			return tok, nil
		}
		var se *ServerError
		if !errors.As(err, &se) {
			return nil, err
		}
		switch se.Code {
		case "authorization_pending":
		case "slow_down":
			every = min(every+slowDownStep, maxInterval)
		default:
			return nil, deviceEnded(se)
		}
		if left := deadline.Sub(f.clock()); left > 0 {
			if err := f.sleep(ctx, min(every, left)); err != nil {
				return nil, err
			}
		}
		if !f.clock().Before(deadline) {
			return nil, fmt.Errorf("%w after %s before the login was approved; run the login again", ErrExpiredToken, expiresIn.Round(time.Second))
		}
	}
}

// present tells the person where to approve the login: the complete
// verification URI when the server sent one, else the plain one, opened in
// the browser when the flow has one, the code, a QR code of the URI when
// the terminal has room, and a waiting line that counts down to deadline
// until the returned stop is called.
func (f *DeviceFlow) present(ctx context.Context, cfg Config, complete, uri, userCode string, deadline time.Time) (stop func()) {
	if complete == "" {
		complete = uri
	}
	scr := f.screen
	if scr == nil {
		scr = newScreen(f.Out, Environment{})
	}
	opened, openErr := false, error(nil)
	if f.Browser != nil {
		if openErr = f.Browser(complete); openErr == nil {
			opened = true
		}
		Debugf(ctx, DebugDecisions, "device flow: opening the verification page in the browser: %v", errOK(openErr))
	}
	scr.printf("%s", scr.deviceScreen(cfg.Name(), complete, userCode, opened, openErr))
	return scr.waiting(deadline, f.clock)
}

// errOK describes the outcome of a step for a debug line.
func errOK(err error) string {
	if err != nil {
		return oneLine(err.Error())
	}
	return "ok"
}

// Bounds on the numbers a device authorization carries (RFC 8628 §3.2):
// a hostile or broken server must not make a client poll in a tight loop,
// sleep for ever, or overflow a duration.
const (
	defaultInterval = 5 * time.Second
	minInterval     = time.Second
	maxInterval     = 60 * time.Second
	maxDeviceExpiry = time.Hour
)

// clampSeconds reads a number of seconds and bounds it: at least
// minInterval for a poll interval, at most limit; a missing, zero or
// unusable number gives def.
func clampSeconds(n json.Number, def, limit time.Duration) time.Duration {
	f, err := number(n)
	if err != nil || f == 0 {
		return def
	}
	d := limit
	if f < limit.Seconds() {
		d = time.Duration(f * float64(time.Second))
	}
	if def != 0 && d < minInterval { // an interval
		d = minInterval
	}
	return d
}

// start asks the server for a device code (RFC 8628 §3.1).
func (f *DeviceFlow) start(ctx context.Context, cfg Config) (*DeviceAuthorization, error) {
	endpoint := cfg.Endpoint(cfg.DeviceRoute)
	body, err := postForm(ctx, cfg, endpoint, nil, nil)
	if err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			switch {
			case noDeviceFlow(se):
				return nil, fmt.Errorf("%w (%w)", ErrNoDeviceFlow, se)
			case se.Status == http.StatusNotFound:
				return nil, fmt.Errorf("flows: %s answered 404 Not Found: no py-oidc-auth server at %s; check the server URL and its path prefix (and --device-route)", endpoint, cfg.Host)
			}
		}
		return nil, err
	}
	var da DeviceAuthorization
	if err := json.Unmarshal(body, &da); err != nil {
		return nil, fmt.Errorf("flows: %s sent a malformed device authorization: %v", endpoint, err)
	}
	missing := ""
	switch {
	case da.DeviceCode == "":
		missing = "device_code"
	case da.UserCode == "":
		missing = "user_code"
	case da.VerificationURI == "":
		missing = "verification_uri"
	case da.ExpiresIn == "":
		missing = "expires_in"
	}
	if missing != "" {
		return nil, fmt.Errorf("flows: %s sent a device authorization without %s; is this a py-oidc-auth server?", endpoint, missing)
	}
	if n, err := number(da.ExpiresIn); err != nil || n <= 0 {
		return nil, fmt.Errorf("flows: %s sent a device authorization with a bad expires_in", endpoint)
	}
	if err := checkShown(endpoint, da.UserCode, da.VerificationURI, da.VerificationURIComplete); err != nil {
		return nil, err
	}
	return &da, nil
}

// checkShown refuses a device authorization whose user code or
// verification URIs, which reach the person's terminal and browser as they
// are, hold control characters, or whose URIs are not http(s).
func checkShown(endpoint, userCode, uri, complete string) error {
	if !isTerminalSafe(userCode) || strings.TrimSpace(userCode) == "" || len(userCode) > 64 {
		return fmt.Errorf("flows: %s sent a user_code with control characters or of odd length; refusing to show it", endpoint)
	}
	for name, u := range map[string]string{"verification_uri": uri, "verification_uri_complete": complete} {
		if u == "" && name == "verification_uri_complete" {
			continue
		}
		if err := checkBrowserURL(u); err != nil {
			return fmt.Errorf("flows: %s sent a %s that %v; refusing to show it", endpoint, name, err)
		}
	}
	return nil
}

// deviceEnded is the error a device login ends with when a poll answers
// anything but authorization_pending or slow_down (RFC 8628 §3.5).
func deviceEnded(se *ServerError) error {
	switch se.Code {
	case "access_denied":
		return fmt.Errorf("%w: the login was refused (%v)", ErrAccessDenied, se)
	case "expired_token":
		return fmt.Errorf("%w before the login was approved; run the login again", ErrExpiredToken)
	}
	return fmt.Errorf("flows: device login failed: %w", se)
}

// noDeviceFlow reports whether an error answer of the device route says
// that the server offers no device flow: 501 or 405, or the 502 a
// py-oidc-auth server sends when its identity provider's discovery document
// has no device endpoint. A 404 is a wrong URL, and other 5xx answers are
// failures, not a reason to switch flows.
func noDeviceFlow(se *ServerError) bool {
	switch se.Status {
	case http.StatusNotImplemented, http.StatusMethodNotAllowed:
		return true
	case http.StatusBadGateway:
		return strings.Contains(se.Description, "device_authorization_endpoint")
	}
	return false
}

// checkBrowserURL checks a URL that a server wants a person to open: an
// absolute http(s) URL with a host, with nothing a terminal would act on.
func checkBrowserURL(raw string) error {
	if !isTerminalSafe(raw) || strings.ContainsAny(raw, " \"") {
		return errors.New("holds control characters")
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return errors.New("is not an http(s) URL")
	}
	return nil
}

func (f *DeviceFlow) clock() time.Time {
	if f.now != nil {
		return f.now()
	}
	return time.Now()
}

func (f *DeviceFlow) sleep(ctx context.Context, d time.Duration) error {
	if f.wait != nil {
		return f.wait(ctx, d)
	}
	return sleep(ctx, d)
}

// sleep waits for d or until ctx ends, returning the context's cause.
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// timeoutError is the cause given to a login's context when its Timeout
// passes.
func timeoutError(d time.Duration) error {
	return fmt.Errorf("flows: the login timed out after %s; run it again (or give a longer --timeout)", d)
}
