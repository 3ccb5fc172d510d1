package helper

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"sync"
)

// GitHelper is one credential helper of the list git runs for a URL
// (gitcredentials(7)), with where git's config sets it.
type GitHelper struct {
	// Name is the helper as people know it: "store", "cache",
	// "osxkeychain", "manager", "oidc" for ours; a helper given by path is
	// named by its file ("/usr/lib/git-core/git-credential-libsecret" is
	// "libsecret"), a shell helper ("!f() { …; }; f") by its whole value.
	Name string
	// Value is the config value as written ("cache --timeout=3600").
	Value string
	// Key is the config key that sets it, as git config prints it
	// ("credential.helper", "credential.https://git.example.org.helper").
	Key string
	// Scope is git's config scope: "system", "global", "local",
	// "worktree" or "command"; "" from a git older than 2.26.
	Scope string
	// Origin is the config file the value is in, as git names it (an
	// included file names itself), or git's description of another origin
	// ("command line:").
	Origin string
	// Ours reports whether the helper is git-credential-oidc.
	Ours bool
	// AfterOurs reports whether git runs it after ours; false for ours and
	// for the helpers before ours.
	AfterOurs bool
	// Remedy is a command line that removes the value from its file and
	// nothing else, or for a value from the command line or the
	// environment a sentence saying where to drop it; "" for ours.
	Remedy string
}

// GitRelease is a version of git: 2.47.3 is {2, 47, 3}.
type GitRelease struct {
	Major, Minor, Patch int
}

// AtLeast reports whether r is major.minor or later. Git 2.46 and later
// announce capability[]=authtype to helpers, and then get an answer that
// is marked ephemeral and carries no password (see GitGet), which the
// store and cache helpers do not keep.
func (r GitRelease) AtLeast(major, minor int) bool {
	return r.Major > major || r.Major == major && r.Minor >= minor
}

// String returns "2.47.3".
func (r GitRelease) String() string {
	return fmt.Sprintf("%d.%d.%d", r.Major, r.Minor, r.Patch)
}

// gitVersionRE finds the version in `git --version` ("git version 2.39.5",
// "git version 2.45.1.windows.1", "git version 2.39.3 (Apple Git-146)").
var gitVersionRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^git version (\d+)\.(\d+)(?:\.(\d+))?`)
})

// GitVersion returns the version of the git on PATH.
func GitVersion(ctx context.Context) (GitRelease, error) {
	out, err := runGit(ctx, "--version")
	if err != nil {
		return GitRelease{}, err
	}
	return parseGitVersion(out)
}

// parseGitVersion reads the output of `git --version`.
func parseGitVersion(out []byte) (GitRelease, error) {
	m := gitVersionRE().FindSubmatch(bytes.TrimSpace(out))
	if m == nil {
		return GitRelease{}, fmt.Errorf("helper: git --version printed %.60q, not a version", out)
	}
	var r GitRelease
	r.Major, _ = strconv.Atoi(string(m[1]))
	r.Minor, _ = strconv.Atoi(string(m[2]))
	if len(m[3]) > 0 {
		r.Patch, _ = strconv.Atoi(string(m[3]))
	}
	return r, nil
}

// StorageHelpers returns the helpers that git, for rawURL, sends our
// token to besides ours: when ours is in the list CredentialHelpers
// returns, every other helper of it, before or after ours, since git sends
// "store" with the credential that worked to every helper of the list. A
// generic storage helper (store, cache, osxkeychain, manager, libsecret,
// wincred, …) keeps the short-lived access token, store in clear text in
// ~/.git-credentials without its expiry, and hands it out after a logout; a
// helper before ours is even asked before ours. Git 2.46 and later tell
// helpers not to keep our answer (see GitRelease.AtLeast); older ones
// cannot. When ours is not in the list the result is empty.
func StorageHelpers(ctx context.Context, rawURL string) ([]GitHelper, error) {
	list, err := CredentialHelpers(ctx, rawURL)
	if err != nil {
		return nil, err
	}
	var others []GitHelper
	ours := false
	for _, h := range list {
		if h.Ours {
			ours = true
		} else {
			others = append(others, h)
		}
	}
	if !ours {
		return nil, nil
	}
	return others, nil
}

// CredentialHelpers returns the credential helpers git runs for rawURL (an
// http or https URL, path included), in the order git runs them: the values
// of every credential.helper and credential.<url>.helper key whose <url>
// matches rawURL as git matches it, in config order, an empty value
// emptying the list so far (gitcredentials(7)). It runs `git config` in
// the current directory, so that inside a repository its own config counts
// as it does for git there, and with the process's environment
// (GIT_CONFIG_GLOBAL, GIT_CONFIG_NOSYSTEM, GIT_CONFIG_COUNT, …).
func CredentialHelpers(ctx context.Context, rawURL string) ([]GitHelper, error) {
	have, err := gitURL(rawURL)
	if err != nil {
		return nil, err
	}
	entries, err := gitConfigList(ctx)
	if err != nil {
		return nil, err
	}
	// The helper entries, and the URL of each one that has one.
	var helpers []configEntry
	var subs []string
	for _, e := range entries {
		sub, ok := helperSubsection(e.key)
		if !ok || e.value == nil {
			continue // git itself refuses a helper key without a value
		}
		helpers = append(helpers, e)
		subs = append(subs, sub)
	}
	matched, err := urlMatches(ctx, subs, rawURL)
	if err != nil {
		return nil, err
	}
	var list []GitHelper
	for i, e := range helpers {
		if subs[i] != "" && !matched[i] && !partialURLMatch(subs[i], have) {
			continue
		}
		if *e.value == "" {
			list = list[:0]
			continue
		}
		list = append(list, newGitHelper(e))
	}
	after := false
	for i := range list {
		if list[i].Ours {
			after = true
			continue
		}
		list[i].AfterOurs = after
	}
	return list, nil
}

// configEntry is one line of `git config --list`.
type configEntry struct {
	scope, origin, key string
	value              *string // nil for a key without "="
}

// gitConfigList reads git's whole config with scopes and origins. A git
// before 2.26 has no --show-scope; it is asked again without.
func gitConfigList(ctx context.Context) ([]configEntry, error) {
	out, err := runGit(ctx, "config", "--list", "--show-origin", "--show-scope", "-z")
	if err == nil {
		return parseConfigList(out, true)
	}
	out, err2 := runGit(ctx, "config", "--list", "--show-origin", "-z")
	if err2 != nil {
		return nil, err
	}
	return parseConfigList(out, false)
}

// parseConfigList parses `git config --list --show-origin [--show-scope]
// -z`: for each entry [scope NUL] origin NUL key [LF value] NUL.
func parseConfigList(out []byte, scoped bool) ([]configEntry, error) {
	fields := strings.Split(string(out), "\x00")
	if fields[len(fields)-1] != "" {
		return nil, errors.New("helper: git config --list -z: the output does not end in NUL")
	}
	fields = fields[:len(fields)-1]
	n := 2
	if scoped {
		n = 3
	}
	if len(fields)%n != 0 {
		return nil, fmt.Errorf("helper: git config --list -z: %d fields, not entries of %d", len(fields), n)
	}
	var entries []configEntry
	for i := 0; i < len(fields); i += n {
		f := fields[i : i+n]
		var e configEntry
		if scoped {
			e.scope, f = f[0], f[1:]
		}
		e.origin = f[0]
		if k, v, ok := strings.Cut(f[1], "\n"); ok {
			e.key, e.value = k, &v
		} else {
			e.key = f[1]
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// helperSubsection reports whether key is credential.helper or
// credential.<url>.helper, and returns <url> ("" for none). git config
// prints section and variable names in lower case and the subsection as
// written.
func helperSubsection(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, "credential.")
	if !ok {
		return "", false
	}
	if rest == "helper" {
		return "", true
	}
	sub, ok := strings.CutSuffix(rest, ".helper")
	return sub, ok && sub != ""
}

// urlMatches reports, for each credential.<url> subsection of subs (""
// for none), whether git's URL matching (git config --get-urlmatch, the
// rules of http.<url>.*) matches rawURL with it. It asks git, through a
// config file of one probe key per subsection; a subsection git cannot
// read as a URL matches nothing here (see partialURLMatch).
func urlMatches(ctx context.Context, subs []string, rawURL string) ([]bool, error) {
	matched := make([]bool, len(subs))
	var b strings.Builder
	for i, sub := range subs {
		if sub == "" || !strings.Contains(sub, "://") {
			continue
		}
		fmt.Fprintf(&b, "[credential \"%s\"]\n\tp%d = 1\n", strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(sub), i)
	}
	if b.Len() == 0 {
		return matched, nil
	}
	dir, err := os.MkdirTemp("", "oidc-auth-gitconfig-")
	if err != nil {
		return nil, fmt.Errorf("helper: %w", err)
	}
	defer os.RemoveAll(dir)
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, []byte(b.String()), 0o600); err != nil {
		return nil, fmt.Errorf("helper: %w", err)
	}
	out, err := runGit(ctx, "config", "--file", probe, "--get-urlmatch", "credential", rawURL)
	var exit *exec.ExitError
	if errors.As(err, &exit) && exit.ExitCode() == 1 && len(out) == 0 {
		return matched, nil // none matches
	}
	if err != nil {
		return nil, err
	}
	for _, line := range strings.Split(string(out), "\n") {
		key, _, _ := strings.Cut(line, " ")
		if n, ok := strings.CutPrefix(key, "credential.p"); ok {
			if i, err := strconv.Atoi(n); err == nil && i >= 0 && i < len(matched) {
				matched[i] = true
			}
		}
	}
	return matched, nil
}

// urlParts are the fields of git's struct credential that a URL sets
// (credential_from_url_1 in git's credential.c); set says which are.
type urlParts struct {
	protocol, username, host, path string
	set                            map[string]bool
}

// parseURLParts reads a URL as git's credential_from_url_1 does; partial
// allows a URL without a scheme ("example.org", "example.org/team").
func parseURLParts(u string, partial bool) urlParts {
	p := urlParts{set: map[string]bool{}}
	cp := u
	protoEnd := strings.Index(u, "://")
	if protoEnd >= 0 {
		cp = u[protoEnd+3:]
	}
	at, colon := strings.IndexByte(cp, '@'), strings.IndexByte(cp, ':')
	slash := strings.IndexAny(cp, "/?#")
	if slash < 0 {
		slash = len(cp)
	}
	host := cp[:slash]
	switch {
	case at < 0 || slash <= at:
	case colon < 0 || at <= colon:
		p.username, p.set["username"] = gitURLDecode(cp[:at]), true
		host = cp[at+1 : slash]
	default:
		p.username, p.set["username"] = gitURLDecode(cp[:colon]), true
		host = cp[at+1 : slash]
	}
	if protoEnd > 0 {
		p.protocol, p.set["protocol"] = u[:protoEnd], true
	}
	if !partial || host != "" {
		p.host, p.set["host"] = gitURLDecode(host), true
	}
	if rest := strings.TrimLeft(cp[slash:], "/"); rest != "" {
		path := gitURLDecode(rest)
		for len(path) > 1 && strings.HasSuffix(path, "/") {
			path = path[:len(path)-1]
		}
		p.path, p.set["path"] = path, true
	}
	return p
}

// partialURLMatch matches a credential.<url> subsection that git cannot
// read as a URL ("example.org") as git does: each part it names must equal
// the request's (match_partial_url and credential_match in credential.c).
func partialURLMatch(sub string, have urlParts) bool {
	want := parseURLParts(sub, true)
	for _, f := range []struct {
		name       string
		want, have string
	}{
		{"protocol", want.protocol, have.protocol},
		{"host", want.host, have.host},
		{"path", want.path, have.path},
		{"username", want.username, have.username},
	} {
		if want.set[f.name] && (!have.set[f.name] || f.want != f.have) {
			return false
		}
	}
	return true
}

// gitURL checks a URL CredentialHelpers is asked about and returns its
// parts as git's request has them.
func gitURL(rawURL string) (urlParts, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || strings.ContainsAny(rawURL, "\x00\n") {
		return urlParts{}, fmt.Errorf("helper: %.80q is not an http or https URL with a host", rawURL)
	}
	return parseURLParts(rawURL, false), nil
}

// gitURLDecode decodes %XX escapes as git's url_decode_mem does, leaving
// malformed ones as they are.
func gitURLDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]) {
			n, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			b.WriteByte(byte(n))
			i += 2
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// newGitHelper describes the helper a config entry sets.
func newGitHelper(e configEntry) GitHelper {
	h := GitHelper{Value: *e.value, Key: e.key, Scope: e.scope, Origin: strings.TrimPrefix(e.origin, "file:")}
	h.Name, h.Ours = helperName(h.Value)
	if !h.Ours {
		h.Remedy = remedy(e)
	}
	return h
}

// helperName names the helper a credential.helper value runs, the way git
// runs it (credential_do in credential.c): "!…" is a shell command, an
// absolute path a program, anything else "git credential-<value>".
func helperName(value string) (name string, ours bool) {
	v := strings.TrimSpace(value)
	if cmd, shell := strings.CutPrefix(v, "!"); shell {
		words := strings.Fields(cmd)
		if len(words) > 0 {
			base := programBase(unquote(words[0]))
			if base == "git-credential-"+HelperName || base == "git" && len(words) > 1 && words[1] == "credential-"+HelperName {
				return HelperName, true
			}
		}
		return value, false
	}
	first := firstWord(v)
	if isAbsPath(first) {
		base := programBase(first)
		if name, ok := strings.CutPrefix(base, "git-credential-"); ok && name != "" {
			return name, name == HelperName
		}
		return base, false
	}
	return first, first == HelperName
}

// firstWord returns the first word of a command, which may be quoted.
func firstWord(v string) string {
	if len(v) > 0 && (v[0] == '"' || v[0] == '\'') {
		if end := strings.IndexByte(v[1:], v[0]); end >= 0 {
			return v[1 : end+1]
		}
	}
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		return v[:i]
	}
	return v
}

// unquote drops the quotes around a shell word.
func unquote(w string) string {
	if len(w) >= 2 && (w[0] == '"' || w[0] == '\'') && w[len(w)-1] == w[0] {
		return w[1 : len(w)-1]
	}
	return w
}

// programBase is the file name of a program path without ".exe".
func programBase(p string) string {
	return strings.TrimSuffix(path.Base(strings.ReplaceAll(p, `\`, "/")), ".exe")
}

// isAbsPath reports whether git takes a helper value for a path: absolute
// on this system, or a Windows drive path.
func isAbsPath(p string) bool {
	return filepath.IsAbs(p) || strings.HasPrefix(p, "/") ||
		len(p) >= 3 && p[1] == ':' && (p[2] == '/' || p[2] == '\\') && ('a' <= p[0]|0x20 && p[0]|0x20 <= 'z')
}

// remedy is the line that removes e's value, and no other, from where it
// is set.
func remedy(e configEntry) string {
	where, ok := strings.CutPrefix(e.origin, "file:")
	if !ok {
		if e.scope == "command" || strings.HasPrefix(e.origin, "command line") {
			return fmt.Sprintf("drop %s=%s from git's -c options and from GIT_CONFIG_PARAMETERS or GIT_CONFIG_COUNT/GIT_CONFIG_KEY_<n>/GIT_CONFIG_VALUE_<n>", e.key, *e.value)
		}
		return fmt.Sprintf("drop %s=%s from %s", e.key, *e.value, e.origin)
	}
	file := []string{"--file", where}
	if !filepath.IsAbs(where) && !strings.HasPrefix(where, "/") {
		// A repository's own config, relative to its top directory.
		switch e.scope {
		case "local":
			file = []string{"--local"}
		case "worktree":
			file = []string{"--worktree"}
		}
	}
	args := append([]string{"git", "config"}, file...)
	args = append(args, "--unset-all", e.key, "^"+quoteERE(*e.value)+"$")
	for i, a := range args {
		args[i] = quoteArg(a)
	}
	return strings.Join(args, " ")
}

// quoteERE quotes the characters that are special in a POSIX extended
// regular expression, which git config's value patterns are.
func quoteERE(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if strings.IndexByte(`.[\()*+?{|^$`, c) >= 0 {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	return b.String()
}

// quoteArg quotes a word of a command line for the shell people use here:
// POSIX sh, or on Windows cmd, which hands double-quoted words on to the
// program (git.exe) as they are (see quoteWindowsArg).
func quoteArg(a string) string {
	if a != "" && strings.Trim(a, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./:=@,+") == "" {
		return a
	}
	if runtime.GOOS == "windows" {
		return quoteWindowsArg(a)
	}
	return "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
}

// quoteWindowsArg quotes a for the command-line parser of Windows programs
// (CommandLineToArgvW, the C runtime's): in double quotes, each quote
// preceded by a backslash, and the backslashes before a quote or the
// closing quote doubled, since 2n backslashes and a quote read as n
// backslashes and the quote's meaning.
func quoteWindowsArg(a string) string {
	var b strings.Builder
	b.WriteByte('"')
	slashes := 0
	for i := 0; i < len(a); i++ {
		switch c := a[i]; c {
		case '\\':
			slashes++
		case '"':
			b.WriteString(strings.Repeat(`\`, slashes+1)) // those written, doubled, and one
			slashes = 0
		default:
			slashes = 0
		}
		b.WriteByte(a[i])
	}
	b.WriteString(strings.Repeat(`\`, slashes))
	b.WriteByte('"')
	return b.String()
}

// runGit runs git with args in the current directory and returns its
// stdout; a failure carries git's stderr.
func runGit(ctx context.Context, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, "git", args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			msg = err.Error()
		}
		return stdout.Bytes(), &gitError{args: args, msg: msg, err: err}
	}
	return stdout.Bytes(), nil
}

// gitError is a failed run of git.
type gitError struct {
	args []string
	msg  string
	err  error
}

func (e *gitError) Error() string {
	return fmt.Sprintf("helper: git %s: %s", strings.Join(e.args, " "), e.msg)
}

func (e *gitError) Unwrap() error { return e.err }
