package flows

import (
	"context"
	"fmt"
	"io"
	"os"
	"regexp"
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
	l.secrets = l.secrets.with(values...)
	l.mu.Unlock()
}

// jwtLike matches compact JWS and JWE serializations: base64url segments
// led by "eyJ" (a JSON object's "{"), whatever token they are.
var jwtLike = regexp.MustCompile(`eyJ[A-Za-z0-9_-]{4,}(\.[A-Za-z0-9_-]*){1,4}`)

// Debugf writes one debug line at level when ctx's output includes it.
func Debugf(ctx context.Context, level int, format string, args ...any) {
	l, _ := ctx.Value(debugKey{}).(*debugLog)
	if l == nil || level > l.level {
		return
	}
	msg := fmt.Sprintf(format, args...)
	l.mu.Lock()
	defer l.mu.Unlock()
	msg = jwtLike.ReplaceAllString(l.secrets.mask(terminalSafe(msg)), masked)
	elapsed := time.Since(l.start).Seconds()
	fmt.Fprintf(l.w, "%s: debug +%.3fs: %s\n", l.name, elapsed, msg)
}
