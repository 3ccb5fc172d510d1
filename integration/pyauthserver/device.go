package pyauthserver

import (
	"crypto/rand"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Outcome is how a planned device authorization ends once its pending polls
// are used up.
type Outcome int

const (
	// Approve issues tokens (the default).
	Approve Outcome = iota
	// Deny answers access_denied, as Keycloak does when the user declines.
	Deny
	// Expire answers expired_token.
	Expire
	// Unknown answers invalid_grant, as for a garbage-collected device code,
	// and forgets the device code.
	Unknown
)

// String returns the outcome's name.
func (o Outcome) String() string {
	switch o {
	case Deny:
		return "deny"
	case Expire:
		return "expire"
	case Unknown:
		return "unknown"
	}
	return "approve"
}

// DevicePlan scripts the polls of one device authorization (RFC 8628 §3.5).
// The zero value approves at the first poll.
type DevicePlan struct {
	// Pending is how many polls are answered authorization_pending before the outcome.
	Pending int
	// SlowDown is how many of the Pending answers (the first ones) are
	// slow_down instead; a SlowDown above Pending raises Pending to it.
	SlowDown int
	// Manual keeps answering authorization_pending after the Pending answers
	// until the user code is approved with Server.Approve or on the
	// verification page; then Outcome applies.
	Manual bool
	// Outcome is the answer once the pending polls are over.
	Outcome Outcome
}

// deviceAuth is one device authorization in progress.
type deviceAuth struct {
	deviceCode string
	userCode   string
	plan       DevicePlan
	expires    time.Time
	polls      []time.Time
	approved   bool
	gone       bool   // forgotten by the provider (Outcome Unknown)
	result     []byte // token response body once issued
}

// PlanDevice queues p for the next device authorization started; each start
// takes one plan from the queue, and when it is empty the default applies:
// approve after one authorization_pending.
func (s *Server) PlanDevice(p DevicePlan) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.plans = append(s.plans, p)
}

// Approve approves the device authorization with userCode as the verification
// page does, and reports whether the code was known. Codes compare
// case-insensitively and ignoring dashes and spaces.
func (s *Server) Approve(userCode string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.userCodes[normUserCode(userCode)]
	if d == nil || d.gone {
		return false
	}
	d.approved = true
	return true
}

// PollTimes returns the wall-clock times (time.Now, not Options.Now) of the
// token-route polls for deviceCode, so tests can check a client's spacing.
func (s *Server) PollTimes(deviceCode string) []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if d := s.devices[deviceCode]; d != nil {
		return append([]time.Time(nil), d.polls...)
	}
	return nil
}

// DevicePolls returns PollTimes of the most recently started device authorization.
func (s *Server) DevicePolls() []time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastDevice == nil {
		return nil
	}
	return append([]time.Time(nil), s.lastDevice.polls...)
}

// LastDevice returns the device and user code of the most recently started
// device authorization, or empty strings before the first.
func (s *Server) LastDevice() (deviceCode, userCode string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastDevice == nil {
		return "", ""
	}
	return s.lastDevice.deviceCode, s.lastDevice.userCode
}

// userCodeAlphabet holds consonants only, so user codes spell no words (RFC 8628 §6.1).
const userCodeAlphabet = "BCDFGHJKLMNPQRSTVWXZ"

func newUserCode() string {
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = userCodeAlphabet[int(b[i])%len(userCodeAlphabet)]
	}
	return string(b[:4]) + "-" + string(b[4:])
}

func normUserCode(c string) string {
	return strings.ToUpper(strings.NewReplacer("-", "", " ", "").Replace(c))
}

// handleDevice starts a device authorization (RFC 8628 §3.2).
func (s *Server) handleDevice(w http.ResponseWriter, r *http.Request) {
	if s.opts.DeviceStatus != 0 {
		s.writeStatus(w, s.opts.DeviceStatus)
		return
	}
	if _, ok := s.readForm(w, r); !ok {
		return
	}
	s.mu.Lock()
	plan := DevicePlan{Pending: 1}
	if len(s.plans) > 0 {
		plan = s.plans[0]
		s.plans = s.plans[1:]
	}
	d := &deviceAuth{
		deviceCode: randToken(32),
		plan:       plan,
		expires:    s.now().Add(time.Duration(s.opts.DeviceExpiresIn) * time.Second),
	}
	for d.userCode == "" || s.userCodes[normUserCode(d.userCode)] != nil {
		d.userCode = newUserCode()
	}
	s.devices[d.deviceCode] = d
	s.userCodes[normUserCode(d.userCode)] = d
	s.lastDevice = d
	s.mu.Unlock()

	verify := s.base + "/idp/device"
	writeJSON(w, http.StatusOK, struct {
		DeviceCode              string `json:"device_code"`
		UserCode                string `json:"user_code"`
		VerificationURI         string `json:"verification_uri"`
		VerificationURIComplete string `json:"verification_uri_complete"`
		ExpiresIn               int    `json:"expires_in"`
		Interval                int    `json:"interval"`
	}{
		DeviceCode:              d.deviceCode,
		UserCode:                d.userCode,
		VerificationURI:         verify,
		VerificationURIComplete: verify + "?" + url.Values{"user_code": {d.userCode}}.Encode(),
		ExpiresIn:               s.opts.DeviceExpiresIn,
		Interval:                s.opts.Interval,
	})
}

// pollDevice answers a device access token request (RFC 8628 §3.4, §3.5),
// wrapping the provider's errors as py-oidc-auth servers do.
func (s *Server) pollDevice(w http.ResponseWriter, deviceCode string) {
	s.mu.Lock()
	d := s.devices[deviceCode]
	if d == nil {
		s.mu.Unlock()
		WriteUpstreamError(w, http.StatusBadRequest, "invalid_grant", "Device code not valid")
		return
	}
	d.polls = append(d.polls, time.Now())
	if d.result != nil {
		body := d.result
		s.mu.Unlock()
		writeBody(w, http.StatusOK, "application/json", body)
		return
	}
	now := s.now()
	code, desc := "", ""
	n := len(d.polls) - 1 // earlier polls
	pending := max(d.plan.Pending, d.plan.SlowDown)
	switch {
	case d.gone:
		code, desc = "invalid_grant", "Device code not valid"
	case !now.Before(d.expires):
		code, desc = "expired_token", "Device code is expired"
	case n < d.plan.SlowDown:
		code = "slow_down"
	case n < pending, d.plan.Manual && !d.approved:
		code = "authorization_pending"
	case d.plan.Outcome == Deny:
		code, desc = "access_denied", "The end-user denied the authorization request"
	case d.plan.Outcome == Expire:
		code, desc = "expired_token", "Device code is expired"
	case d.plan.Outcome == Unknown:
		d.gone = true
		code, desc = "invalid_grant", "Device code not valid"
	default:
		d.result = marshal(s.issueLocked(now))
	}
	body := d.result
	s.mu.Unlock()
	if code != "" {
		WriteUpstreamError(w, http.StatusBadRequest, code, desc)
		return
	}
	writeBody(w, http.StatusOK, "application/json", body)
}

// handleVerify is the provider's device verification page: with a known
// user_code it approves that authorization and says "approved".
func (s *Server) handleVerify(w http.ResponseWriter, r *http.Request) {
	userCode := r.URL.Query().Get("user_code")
	if userCode == "" {
		writeHTML(w, http.StatusOK, "Device login", "Enter the code shown on your device.")
		return
	}
	if !s.Approve(userCode) {
		writeHTML(w, http.StatusNotFound, "Device login", "Unknown or expired code.")
		return
	}
	writeHTML(w, http.StatusOK, "Device login", "approved")
}
