package helper

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/oidc-auth/oidc-auth/keyring"
)

// Limits of a git credential request (gitcredentials(7)): git sends a few
// short lines; anything larger is not git.
const (
	maxGitRequest = 64 << 10
	maxGitLine    = 16 << 10
)

// GitRequest is one request of git's credential helper protocol
// (gitcredentials(7), "CUSTOM HELPERS"): key=value lines up to a blank
// line or the end of input.
type GitRequest struct {
	// Fields holds every value of every key, in order; "key[]" keys are
	// stored under "key[]".
	Fields map[string][]string
}

// Get returns the last value of key, or "".
func (r *GitRequest) Get(key string) string {
	v := r.Fields[key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// Capable reports whether git announced capability c ("authtype").
func (r *GitRequest) Capable(c string) bool {
	for _, v := range r.Fields["capability[]"] {
		if v == c {
			return true
		}
	}
	return false
}

// ParseGitRequest reads one request. Lines end in "\n" (a "\r" before it is
// dropped); unknown keys are kept and ignored by callers; a line without
// "=", a NUL byte, or a request over 64 KiB is an error.
func ParseGitRequest(r io.Reader) (*GitRequest, error) {
	req := &GitRequest{Fields: map[string][]string{}}
	br := bufio.NewReaderSize(io.LimitReader(r, maxGitRequest+1), 4096)
	total := 0
	for {
		line, err := br.ReadString('\n')
		total += len(line)
		if total > maxGitRequest || len(line) > maxGitLine {
			return nil, errors.New("helper: the credential request is too large")
		}
		if strings.IndexByte(line, 0) >= 0 {
			return nil, errors.New("helper: the credential request holds a NUL byte")
		}
		line = strings.TrimSuffix(strings.TrimSuffix(line, "\n"), "\r")
		if line == "" {
			if err != nil && !errors.Is(err, io.EOF) {
				return nil, fmt.Errorf("helper: read the credential request: %w", err)
			}
			return req, nil
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || key == "" {
			return nil, fmt.Errorf("helper: the credential request has a line without key=value (%.40q)", line)
		}
		req.Fields[key] = append(req.Fields[key], value)
		if err != nil {
			if errors.Is(err, io.EOF) {
				return req, nil
			}
			return nil, fmt.Errorf("helper: read the credential request: %w", err)
		}
	}
}

// target is the Target a request asks for; ok is false when it names no
// http(s) host.
func (r *GitRequest) target() (Target, bool) {
	return gitTarget(r.Get("protocol"), r.Get("host"), r.Get("path"))
}

// GitGet answers git's "get": for a URL a server answers, it writes
// username, password (the access token) and password_expiry_utc, and, when
// git announced capability[]=authtype, the token as a Bearer credential
// too. When the URL is not ours, or no token can be had (no login and no
// terminal to log in from), it writes nothing, so that git asks its next
// helper, and leaves a note on Log.
func (h *Helper) GitGet(ctx context.Context, in io.Reader, out io.Writer) error {
	req, err := ParseGitRequest(in)
	if err != nil {
		return err
	}
	t, ok := req.target()
	if !ok {
		return nil
	}
	r, err := h.resolve(ctx, t)
	if err != nil {
		h.explain(err)
		return nil
	}
	if r == nil {
		return nil
	}
	tok, err := h.token(ctx, r)
	if err != nil {
		h.explain(err)
		return nil
	}
	var b strings.Builder
	if req.Capable("authtype") {
		fmt.Fprintf(&b, "capability[]=authtype\nauthtype=Bearer\ncredential=%s\n", tok.AccessToken)
	}
	fmt.Fprintf(&b, "username=%s\npassword=%s\n", r.server.username(), tok.AccessToken)
	if tok.Expires > 0 {
		fmt.Fprintf(&b, "password_expiry_utc=%s\n", strconv.FormatInt(tok.Expires, 10))
	}
	_, err = io.WriteString(out, b.String())
	return err
}

// GitErase answers git's "erase", sent when a server rejected the
// credential: if the rejected password is the stored access token, the
// access token is dropped and the refresh token kept, so the next "get"
// refreshes. A password that is not ours (or no longer ours) changes
// nothing.
func (h *Helper) GitErase(ctx context.Context, in io.Reader) error {
	req, err := ParseGitRequest(in)
	if err != nil {
		return err
	}
	t, ok := req.target()
	password := req.Get("password")
	if !ok || password == "" {
		return nil
	}
	r, err := h.resolve(ctx, t)
	if err != nil || r == nil {
		return err
	}
	key, err := keyring.Key(r.server.Host)
	if err != nil {
		return err
	}
	unlock, err := h.Store.Lock(ctx, key)
	if err != nil {
		return err
	}
	defer unlock()
	rec, err := h.Store.Get(ctx, key)
	if errors.Is(err, keyring.ErrNotFound) {
		return nil
	}
	if err != nil || rec.Token.AccessToken != password {
		return err
	}
	rec.Token.AccessToken, rec.Token.Expires, rec.Token.Headers = "", 0, nil
	return h.Store.Put(ctx, key, rec)
}
