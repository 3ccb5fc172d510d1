package flows

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
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
	// code). Nil discards them.
	Out io.Writer

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

	da, err := f.start(ctx, cfg)
	if err != nil {
		return nil, err
	}
	expiresIn, _ := number(da.ExpiresIn)
	interval, err := number(da.Interval)
	if err != nil || interval == 0 {
		interval = 5
	}
	every := max(time.Duration(interval*float64(time.Second)), time.Second)
	show := da.VerificationURIComplete
	if show == "" {
		show = da.VerificationURI
	}
	out := f.Out
	if out == nil {
		out = io.Discard
	}
	fmt.Fprintf(out, "To log in to %s, open this page in a browser:\n\n    %s\n\nand confirm the code %s\n\nWaiting for the login to be approved…\n", cfg.Host, show, da.UserCode)

	deadline := f.clock().Add(time.Duration(expiresIn * float64(time.Second)))
	tokenURL := cfg.Endpoint(cfg.TokenRoute)
	for {
		body, err := postForm(ctx, cfg, tokenURL, url.Values{"device-code": {da.DeviceCode}})
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
			every += slowDownStep
		case "access_denied":
			return nil, fmt.Errorf("%w: the login was refused (%v)", ErrAccessDenied, se)
		case "expired_token":
			return nil, fmt.Errorf("%w before the login was approved; run the login again", ErrExpiredToken)
		default:
			return nil, fmt.Errorf("flows: device login failed: %w", se)
		}
		if left := deadline.Sub(f.clock()); left > 0 {
			if err := f.sleep(ctx, min(every, left)); err != nil {
				return nil, err
			}
		}
		if !f.clock().Before(deadline) {
			return nil, fmt.Errorf("%w after %s before the login was approved; run the login again", ErrExpiredToken, time.Duration(expiresIn)*time.Second)
		}
	}
}

// start asks the server for a device code (RFC 8628 §3.1).
func (f *DeviceFlow) start(ctx context.Context, cfg Config) (*DeviceAuthorization, error) {
	endpoint := cfg.Endpoint(cfg.DeviceRoute)
	body, err := postForm(ctx, cfg, endpoint, nil)
	if err != nil {
		var se *ServerError
		if errors.As(err, &se) {
			switch se.Status {
			case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusServiceUnavailable:
				return nil, fmt.Errorf("%w (%w)", ErrNoDeviceFlow, se)
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
	return &da, nil
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
