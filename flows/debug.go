package flows

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// DebugEnv names the environment variable that turns on debug output: 1
// (or true) for the level of -v, 2 for -vv. git and docker start the
// credential helpers themselves, so a variable is the only way to reach
// them.
const DebugEnv = "OIDC_AUTH_DEBUG"

// Debug levels: what -v and -vv show.
const (
	// DebugOff shows nothing.
	DebugOff = 0
	// DebugDecisions shows requests with their answers' status and
	// timing, and the decisions taken: which store, which flow, why a
	// refresh or a login.
	DebugDecisions = 1
	// DebugDetails adds the details behind them: headers' names, the
	// fields of answers (never their secret values), lock waits, store
	// paths.
	DebugDetails = 2
)

// DebugLevelFromEnv returns the level $OIDC_AUTH_DEBUG asks for: 0 when
// it is unset, empty, "0" or "false"; the number it holds (at most
// DebugDetails); 1 for any other value.
func DebugLevelFromEnv() int {
	v := strings.ToLower(strings.TrimSpace(os.Getenv(DebugEnv)))
	switch v {
	case "", "0", "false", "no", "off":
		return DebugOff
	}
	if n, err := strconv.Atoi(v); err == nil && n >= 0 {
		return min(n, DebugDetails)
	}
	return DebugDecisions
}

// debugKey carries a *debugLog in a context.
type debugKey struct{}

// debugLog writes debug lines for one process.
type debugLog struct {
	mu      sync.Mutex
	w       io.Writer
	level   int
	name    string
	start   time.Time
	secrets secrets
}

// WithDebug returns a context under which the flows, the token store and
// the helpers write debug lines of at most level to w, each led by name
// ("oidc-auth"). Every line is made terminal-safe, and every secret the
// process has noted (see NoteSecret) and anything shaped like a JWT is
// masked. A level of DebugOff returns ctx unchanged.
func WithDebug(ctx context.Context, w io.Writer, level int, name string) context.Context {
	if level <= DebugOff || w == nil {
		return ctx
	}
	return context.WithValue(ctx, debugKey{}, &debugLog{w: w, level: level, name: name, start: time.Now()})
}

// DebugEnabled reports whether ctx's debug output includes level.
func DebugEnabled(ctx context.Context, level int) bool {
	l, _ := ctx.Value(debugKey{}).(*debugLog)
	return l != nil && level <= l.level
}

// NoteSecret adds values to what ctx's debug output masks: tokens, codes,
// verifiers, device codes, client secrets. It is cheap and safe to call
// without debug output.
func NoteSecret(ctx context.Context, values ...string) {
	l, _ := ctx.Value(debugKey{}).(*debugLog)
	if l == nil {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, v := range values {
		if v != "" && !slices.Contains(l.secrets, v) {
			l.secrets = append(l.secrets, v)
		}
	}
}

// jwtLike matches compact JWS and JWE serializations: base64url segments
// led by "eyJ" (a JSON object's "{"), whatever token they are.
var jwtLike = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*){1,4}`)
})

// Debugf writes one debug line at level when ctx's output includes it.
func Debugf(ctx context.Context, level int, format string, args ...any) {
	l, _ := ctx.Value(debugKey{}).(*debugLog)
	if l == nil || level > l.level {
		return
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	msg = jwtLike().ReplaceAllString(l.secrets.mask(terminalSafe(msg)), masked)
	elapsed := time.Since(l.start).Seconds()
	fmt.Fprintf(l.w, "%s: debug +%.3fs: %s\n", l.name, elapsed, msg)
}

// carryDebug returns client, or when ctx has debug output a copy of it
// whose requests carry that output even when the library sending them
// dropped ctx: x/oauth2 sends the device authorization request with
// http.NewRequest, under a context of its own.
func carryDebug(ctx context.Context, client *http.Client) *http.Client {
	l, _ := ctx.Value(debugKey{}).(*debugLog)
	if l == nil || client == nil {
		return client
	}
	c := *client
	base := c.Transport
	if base == nil {
		base = http.DefaultTransport
	}
	c.Transport = &debugCarrier{base: base, log: l}
	return &c
}

// debugCarrier puts a debug log into the context of requests that have
// none.
type debugCarrier struct {
	base http.RoundTripper
	log  *debugLog
}

// RoundTrip sends r, under the carrier's debug log when r has none.
func (t *debugCarrier) RoundTrip(r *http.Request) (*http.Response, error) {
	if _, ok := r.Context().Value(debugKey{}).(*debugLog); !ok {
		r = r.WithContext(context.WithValue(r.Context(), debugKey{}, t.log))
	}
	return t.base.RoundTrip(r)
}

// CloseIdleConnections closes the idle connections of the wrapped
// transport.
func (t *debugCarrier) CloseIdleConnections() {
	if ci, ok := t.base.(interface{ CloseIdleConnections() }); ok {
		ci.CloseIdleConnections()
	}
}
