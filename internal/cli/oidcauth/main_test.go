package oidcauth

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	versioninfo "github.com/oidc-auth/oidc-auth/internal/version"
	"github.com/oidc-auth/oidc-auth/keyring"
)

func TestReorderArgs(t *testing.T) {
	t.Parallel()
	app := newApp(&bytes.Buffer{}, &bytes.Buffer{})
	tests := []struct{ in, want string }{
		{"oidc-auth login https://h --force", "oidc-auth login --force -- https://h"},
		{"oidc-auth login https://h --flow code --port 1 --port=2", "oidc-auth login --flow code --port 1 --port=2 -- https://h"},
		{"oidc-auth login --flow device https://h", "oidc-auth login --flow device -- https://h"},
		{"oidc-auth token https://h --header", "oidc-auth token --header -- https://h"},
		{"oidc-auth logout --all", "oidc-auth logout --all"},
		{"oidc-auth login https://h -- --weird", "oidc-auth login https://h -- --weird"},
		{"oidc-auth login https://h --timeout 30s -- x", "oidc-auth login --timeout 30s -- https://h -- x"},
		{"oidc-auth frob --x", "oidc-auth frob --x"},
		{"oidc-auth setup git https://g/team/ --host https://h --unset", "oidc-auth setup git --host https://h --unset -- https://g/team/"},
		{"oidc-auth setup docker reg:5000 --creds-store --host=https://h", "oidc-auth setup docker --creds-store --host=https://h -- reg:5000"},
		{"oidc-auth --help", "oidc-auth --help"},
		{"oidc-auth", "oidc-auth"},
		{"oidc-auth -vv login https://h", "oidc-auth -v -v login https://h"},
		{"oidc-auth login https://h -vvv", "oidc-auth login -v -v -v -- https://h"},
		{"oidc-auth login -v https://h -- -vv", "oidc-auth login -v -- https://h -- -vv"},
		{"oidc-auth login https://h --force --flow", "oidc-auth login --force --flow"},
		{"oidc-auth -vx", "oidc-auth -vx"},
		{"oidc-auth login --fo --generate-bash-completion", "oidc-auth login --fo --generate-bash-completion"},
		{"oidc-auth login https://h --generate-bash-completion", "oidc-auth login https://h --generate-bash-completion"},
	}
	for _, tt := range tests {
		if got := strings.Join(reorderArgs(app, strings.Fields(tt.in)), " "); got != tt.want {
			t.Errorf("reorderArgs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestParseTimeout(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]time.Duration{"90": 90 * time.Second, "90s": 90 * time.Second, "5m": 5 * time.Minute, "1h30m": 90 * time.Minute} {
		if got, err := parseTimeout(in); err != nil || got != want {
			t.Errorf("parseTimeout(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-5", "soon", "-1m"} {
		if _, err := parseTimeout(in); err == nil {
			t.Errorf("parseTimeout(%q) accepted", in)
		}
	}
}

func TestMessageDropsPackagePrefix(t *testing.T) {
	t.Parallel()
	err := fmt.Errorf("flows: cannot reach %s: %w", "https://h/auth/v2/device", errors.New("connection refused"))
	if got := message(err); got != "cannot reach https://h/auth/v2/device: connection refused" {
		t.Errorf("message = %q", got)
	}
}

func TestUsageExitCodes(t *testing.T) {
	sandbox(t)
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	t.Setenv("OIDC_TOKEN_FILE", "")
	t.Setenv("OIDC_AUTH_STORE", "file")
	tests := []struct {
		args []string
		code int
		text string
	}{
		{[]string{"login"}, exitUsage, "login needs the server HOST"},
		{[]string{"login", "a", "b"}, exitUsage, "takes one HOST"},
		{[]string{"login", "--flow", "implicit", "https://h"}, exitUsage, `unknown flow "implicit"`},
		{[]string{"login", "https://h", "--timeout", "soon"}, exitUsage, "--timeout"},
		{[]string{"login", "--bogus", "https://h"}, exitUsage, "unknown flag --bogus"},
		{[]string{"frobnicate"}, exitUsage, `unknown command "frobnicate"; see`},
		{[]string{"lgoin", "https://h"}, exitUsage, "unknown command \"lgoin\" (did you mean `oidc-auth login`?)"},
		{[]string{"stauts"}, exitUsage, "(did you mean `oidc-auth status`?)"},
		{[]string{"setup", "gti", "https://g"}, exitUsage, "unknown command \"gti\" (did you mean `oidc-auth setup git`?); see `oidc-auth setup --help`"},
		{[]string{"help", "lgout"}, exitUsage, "(did you mean `oidc-auth logout`?)"},
		{[]string{"setup", "help", "dokcer"}, exitUsage, "(did you mean `oidc-auth setup docker`?)"},
		{[]string{"login", "--forse", "https://h"}, exitUsage, "unknown flag --forse (did you mean --force?); see `oidc-auth login --help`"},
		{[]string{"login", "https://h", "--flow"}, exitUsage, "--flow needs a value"},
		{[]string{"login", "--port", "x", "https://h"}, exitUsage, `--port: "x" is not a valid value`},
		{[]string{"completion"}, exitUsage, "completion needs one SHELL: bash, zsh, fish, powershell"},
		{[]string{"completion", "bsh"}, exitUsage, `completion knows no shell "bsh" (did you mean bash?)`},
		{[]string{"version", "extra"}, exitUsage, "version takes no arguments"},
		{[]string{"setup", "git"}, exitUsage, "setup git needs URL and --host, the py-oidc-auth server"},
		{[]string{"setup", "docker"}, exitUsage, "setup docker needs REGISTRY and --host"},
		{[]string{"setup", "helm", "--issuer", "https://op"}, exitUsage, "setup helm needs REGISTRY and --client-id"},
		{[]string{"setup", "git", "https://g", "--client-id", "c"}, exitUsage, "setup git needs --issuer"},
		{[]string{"setup", "git", "a", "b"}, exitUsage, "setup git takes one URL, got 2 arguments"},
		{[]string{"token"}, exitUsage, "token needs the server HOST"},
		{[]string{"status", "extra"}, exitUsage, "status takes no arguments"},
		{[]string{"logout"}, exitUsage, "logout needs the server HOST"},
		{[]string{"logout", "--all", "https://h"}, exitUsage, "either HOST or --all"},
		{[]string{"logout", "https://nowhere.example"}, exitFailure, "not logged in to https://nowhere.example"},
		{[]string{"status"}, exitFailure, "no stored logins"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		code := run(context.Background(), "", append([]string{"oidc-auth"}, tt.args...), &stdout, &stderr)
		if code != tt.code || !strings.Contains(stderr.String(), tt.text) {
			t.Errorf("%q: exit %d, stderr %q; want %d containing %q", tt.args, code, stderr.String(), tt.code, tt.text)
		}
		if code != exitOK && (strings.Count(strings.TrimSpace(stderr.String()), "\n") != 0 || strings.Contains(stderr.String(), "oidc-auth: oidc-auth") || strings.Contains(stderr.String(), "?;")) {
			t.Errorf("%q: stderr is not one clean line: %q", tt.args, stderr.String())
		}
		if stdout.Len() != 0 {
			t.Errorf("%q: wrote %q to stdout", tt.args, stdout.String())
		}
	}
}

// sandbox gives the test its own home ($HOME, and %USERPROFILE% as
// Windows finds it), config, cache, git, docker and
// helm configuration and a file store, and no debug variable.
func sandbox(t *testing.T) (home string) {
	t.Helper()
	dir := t.TempDir()
	home = filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	for k, v := range map[string]string{
		"HOME": home, "USERPROFILE": home, "XDG_CONFIG_HOME": filepath.Join(dir, "config"), "XDG_CACHE_HOME": filepath.Join(dir, "cache"),
		"GIT_CONFIG_GLOBAL": filepath.Join(home, ".gitconfig"), "GIT_CONFIG_NOSYSTEM": "1",
		"DOCKER_CONFIG": filepath.Join(dir, "docker"), "HELM_REGISTRY_CONFIG": "", "HELM_CONFIG_HOME": "",
		"OIDC_AUTH_STORE": "file", "OIDC_TOKEN_FILE": "", flows.DebugEnv: "",
	} {
		t.Setenv(k, v)
	}
	return home
}

// runCLI runs one command line in process.
func runCLI(args ...string) (code int, stdout, stderr string) {
	var out, errOut bytes.Buffer
	code = run(context.Background(), "", append([]string{"oidc-auth"}, args...), &out, &errOut)
	return code, out.String(), errOut.String()
}

// TestHelpAtEveryLevel asks for help as people do, at the top and below
// setup, and checks that each shows the command's own help with its
// examples, on stdout, and that no bool flag says "(default: false)".
func TestHelpAtEveryLevel(t *testing.T) {
	sandbox(t)
	tests := []struct {
		args []string
		name string // the help's NAME line starts with this
		want []string
	}{
		{nil, "oidc-auth - ", []string{"COMMANDS:", "login", "completion", "help", "ENVIRONMENT:", flows.DebugEnv, helper.ConfigEnv + "=PATH", "%APPDATA% (Windows)", "EXAMPLES:"}},
		{[]string{"help"}, "oidc-auth - ", []string{"COMMANDS:"}},
		{[]string{"--help"}, "oidc-auth - ", []string{"COMMANDS:"}},
		{[]string{"help", "login"}, "oidc-auth login - ", []string{"EXAMPLES:", "oidc-auth login --flow device", "--verbose, -v"}},
		{[]string{"login", "--help"}, "oidc-auth login - ", []string{"EXAMPLES:"}},
		{[]string{"help", "token"}, "oidc-auth token - ", []string{"EXAMPLES:", "--header"}},
		{[]string{"help", "status"}, "oidc-auth status - ", []string{"EXAMPLES:", "oidc-auth status --json"}},
		{[]string{"help", "logout"}, "oidc-auth logout - ", []string{"EXAMPLES:", "--all"}},
		{[]string{"help", "setup"}, "oidc-auth setup - ", []string{"COMMANDS:", "git", "docker", "helm", "EXAMPLES:"}},
		{[]string{"setup"}, "oidc-auth setup - ", []string{"COMMANDS:"}},
		{[]string{"setup", "help"}, "oidc-auth setup - ", []string{"COMMANDS:"}},
		{[]string{"setup", "help", "git"}, "oidc-auth setup git - ", []string{"EXAMPLES:", "--unset", "oidc-auth setup git git.example.org"}},
		{[]string{"setup", "git", "--help"}, "oidc-auth setup git - ", []string{"EXAMPLES:"}},
		{[]string{"setup", "docker", "--help"}, "oidc-auth setup docker - ", []string{"EXAMPLES:", "--creds-store"}},
		{[]string{"setup", "help", "helm"}, "oidc-auth setup helm - ", []string{"EXAMPLES:"}},
		{[]string{"help", "completion"}, "oidc-auth completion - ", []string{"EXAMPLES:", "source <(oidc-auth completion bash)", "completion fish >", "$PROFILE"}},
	}
	for _, tt := range tests {
		code, stdout, stderr := runCLI(tt.args...)
		if code != exitOK || stderr != "" {
			t.Errorf("%q: exit %d, stderr %q", tt.args, code, stderr)
			continue
		}
		if !strings.HasPrefix(stdout, "NAME:\n   "+tt.name) {
			t.Errorf("%q: help does not start with NAME %q:\n%s", tt.args, tt.name, stdout)
		}
		for _, w := range append(tt.want, "--help, -h") {
			if !strings.Contains(stdout, w) {
				t.Errorf("%q: help lacks %q:\n%s", tt.args, w, stdout)
			}
		}
		if strings.Contains(stdout, "(default: false)") {
			t.Errorf("%q: help says (default: false):\n%s", tt.args, stdout)
		}
	}
}

// TestLoginHelpOrder checks that login's help lists the flags people use
// first and the route flags last.
func TestLoginHelpOrder(t *testing.T) {
	sandbox(t)
	_, stdout, _ := runCLI("help", "login")
	last := -1
	for _, flag := range []string{"--flow", "--force", "--timeout", "--issuer", "--client-id", "--port", "--store", "--login-route", "--device-route"} {
		i := strings.Index(stdout, "   "+flag+" ")
		if i < 0 || i < last {
			t.Fatalf("%s is not after the flags before it in:\n%s", flag, stdout)
		}
		last = i
	}
}

// TestVerbosity checks the debug level each way of asking for it gives a
// command, and that the debug lines go to stderr.
func TestVerbosity(t *testing.T) {
	sandbox(t)
	tests := []struct {
		env  string
		args []string
		want int
	}{
		{"", []string{"status"}, flows.DebugOff},
		{"", []string{"-v", "status"}, flows.DebugDecisions},
		{"", []string{"status", "-v"}, flows.DebugDecisions},
		{"", []string{"status", "--verbose"}, flows.DebugDecisions},
		{"", []string{"-vv", "status"}, flows.DebugDetails},
		{"", []string{"status", "-vv"}, flows.DebugDetails},
		{"", []string{"-v", "status", "-v"}, flows.DebugDetails},
		{"", []string{"status", "-vvv"}, flows.DebugDetails},
		{"1", []string{"status"}, flows.DebugDecisions},
		{"2", []string{"status", "-v"}, flows.DebugDetails},
		{"1", []string{"status", "-vv"}, flows.DebugDetails},
		{"", []string{"setup", "-v", "git"}, flows.DebugDecisions},
		{"", []string{"setup", "git", "-vv"}, flows.DebugDetails},
	}
	for _, tt := range tests {
		t.Setenv(flows.DebugEnv, tt.env)
		var stdout, stderr bytes.Buffer
		app := newApp(&stdout, &stderr)
		got := -1
		probe := func(c *cli.Context) error {
			got = flows.DebugOff
			for _, l := range []int{flows.DebugDecisions, flows.DebugDetails} {
				if flows.DebugEnabled(c.Context, l) {
					got = l
				}
			}
			flows.Debugf(c.Context, flows.DebugDecisions, "probe line")
			return nil
		}
		for _, cmd := range app.Commands {
			if cmd.Name == "status" {
				cmd.Action = probe
			}
			if cmd.Name == "setup" {
				cmd.Subcommands[0].Action = probe
			}
		}
		err := app.RunContext(context.Background(), reorderArgs(app, append([]string{"oidc-auth"}, tt.args...)))
		if err != nil || got != tt.want {
			t.Errorf("%s=%q %q: level %d, %v; want %d", flows.DebugEnv, tt.env, tt.args, got, err, tt.want)
		}
		if shown := strings.Contains(stderr.String(), "probe line"); shown != (tt.want > flows.DebugOff) || stdout.Len() != 0 {
			t.Errorf("%q: stderr %q, stdout %q", tt.args, stderr.String(), stdout.String())
		}
	}
}

// TestCompletionScripts checks what each shell's script is made of; the
// integration tests run them in the shells.
func TestCompletionScripts(t *testing.T) {
	sandbox(t)
	tests := map[string][]string{
		"bash":       {"complete -o bashdefault -o default -F _oidc_auth_complete oidc-auth", "--generate-bash-completion", "COMPREPLY"},
		"zsh":        {"#compdef oidc-auth", "compdef _oidc_auth oidc-auth", "--generate-bash-completion"},
		"fish":       {"complete -c oidc-auth", "-a 'login'", "-a 'setup'", "-l force", "-l flow"},
		"powershell": {"Register-ArgumentCompleter -Native -CommandName 'oidc-auth'", "--generate-bash-completion", "CompletionResult"},
		"PowerShell": {"Register-ArgumentCompleter"},
	}
	for shell, want := range tests {
		code, stdout, stderr := runCLI("completion", shell)
		if code != exitOK || stderr != "" {
			t.Errorf("completion %s: exit %d, stderr %q", shell, code, stderr)
		}
		for _, w := range want {
			if !strings.Contains(stdout, w) {
				t.Errorf("completion %s lacks %q:\n%s", shell, w, stdout)
			}
		}
		if shell == "fish" && (strings.Contains(stdout, "generate-bash-completion") || strings.Contains(stdout, "'version'")) {
			t.Errorf("completion fish offers hidden things:\n%s", stdout)
		}
	}
}

// TestVersionFlag checks that --version and the version command print
// the version Main was given, else the build information's.
func TestVersionFlag(t *testing.T) {
	sandbox(t)
	for _, version := range []string{"", "v1.2.3-test"} {
		want := "oidc-auth " + versioninfo.String(version) + "\n"
		if version != "" && want != "oidc-auth v1.2.3-test\n" {
			t.Fatalf("versioninfo.String(%q) = %q", version, want)
		}
		for _, args := range [][]string{{"--version"}, {"version"}} {
			var out, errOut bytes.Buffer
			code := run(context.Background(), version, append([]string{"oidc-auth"}, args...), &out, &errOut)
			if code != exitOK || out.String() != want || errOut.String() != "" {
				t.Errorf("version %q, %q: exit %d, stdout %q, stderr %q; want %q", version, args, code, out.String(), errOut.String(), want)
			}
		}
	}
}

// TestSuggest checks the bar of suggestions: near words get one, far
// words none.
func TestSuggest(t *testing.T) {
	t.Parallel()
	cmds := []string{"login", "token", "status", "setup", "logout", "completion", "help"}
	for typed, want := range map[string]string{
		"lgoin": "login", "LOGIN": "login", "statsu": "status", "tokn": "token", "complete": "completion", "stup": "setup",
		"frobnicate": "", "x": "", "kubectl": "",
	} {
		if got := suggest(cmds, typed); got != want {
			t.Errorf("suggest(%q) = %q, want %q", typed, got, want)
		}
	}
	if got := suggest([]string{"git", "docker", "helm"}, "gti"); got != "git" {
		t.Errorf("suggest(gti) = %q, want git", got)
	}
}

// storeLogin puts a live login for host into the sandbox's file store.
func storeLogin(t *testing.T, host string) {
	t.Helper()
	store, err := keyring.Open(keyring.Options{Backend: "file", Warn: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	key, err := keyring.Key(host)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	rec := &keyring.Record{
		Token:    flows.Token{AccessToken: "at-" + key, Expires: now.Add(time.Hour).Unix(), RefreshToken: "rt-" + key, RefreshExpires: now.Add(24 * time.Hour).Unix()},
		Server:   &keyring.Server{Host: host},
		StoredAt: now,
	}
	if err := store.Put(context.Background(), key, rec); err != nil {
		t.Fatal(err)
	}
}

// TestSetupMessages runs setup as a newcomer would and checks what each
// step says: the server it chose, what to run next, and an undo with
// nothing to undo.
func TestSetupMessages(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("OIDC_AUTH_TEST_REQUIRE_TOOLS") != "" {
			t.Fatal("no git on PATH, but OIDC_AUTH_TEST_REQUIRE_TOOLS is set (apt-get install git)")
		}
		t.Skip("no git on PATH (apt-get install git)")
	}
	home := sandbox(t)
	step := func(wantCode int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(args...)
		if code != wantCode || stdout != "" {
			t.Fatalf("%q: exit %d, stdout %q, stderr %q; want exit %d", args, code, stdout, stderr, wantCode)
		}
		return stderr
	}
	contains := func(args []string, got string, want ...string) {
		t.Helper()
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%q: stderr %q lacks %q", args, got, w)
			}
		}
	}

	// No login yet: --host is needed, and a bare host is https.
	got := step(exitUsage, "setup", "git", "git.example.org/team/")
	contains([]string{"no login"}, got, "setup git needs --host")
	got = step(exitOK, "setup", "git", "git.example.org/team/", "--host", "auth.example.org/api/app")
	contains([]string{"bare"}, got,
		"https://git.example.org/team/ answers with tokens of https://auth.example.org/api/app",
		"Next: log in with `oidc-auth login https://auth.example.org/api/app`, then try `git clone https://git.example.org/team/…`.")
	gitconfig, err := os.ReadFile(filepath.Join(home, ".gitconfig"))
	if err != nil || !strings.Contains(string(gitconfig), `[credential "https://git.example.org/team/"]`) {
		t.Errorf("git config: %v\n%s", err, gitconfig)
	}

	// One login: it is the default, and the next step is the clone.
	storeLogin(t, "https://auth.example.org/api/app")
	args := []string{"setup", "docker", "Registry.Example.org"}
	got = step(exitOK, args...)
	contains(args, got, "Using https://auth.example.org/api/app, the only stored login",
		"registry.example.org answers with tokens of https://auth.example.org/api/app",
		"Next: try `docker pull registry.example.org/…`.")
	if strings.Contains(got, "log in with") {
		t.Errorf("%q: asks to log in again: %q", args, got)
	}

	// Two logins: say which, and ask for --host, with the missing URL in
	// the same message.
	storeLogin(t, "https://other.example.org")
	args = []string{"setup", "helm"}
	got = step(exitUsage, args...)
	contains(args, got, "setup helm needs REGISTRY and --host", "2 logins are stored, choose one: ", "https://auth.example.org/api/app", "https://other.example.org")

	// Undo, then undo again: nothing to undo.
	for _, tt := range []struct {
		args       []string
		done, none string
	}{
		{[]string{"setup", "git", "https://git.example.org/team/", "--unset"}, "git no longer asks oidc-auth for https://git.example.org/team/", "Nothing to undo: git does not ask oidc-auth for https://git.example.org/team/"},
		{[]string{"setup", "docker", "registry.example.org", "--unset"}, "docker no longer asks oidc-auth for registry.example.org", "Nothing to undo: docker does not ask oidc-auth for registry.example.org"},
	} {
		got = step(exitOK, tt.args...)
		contains(tt.args, got, tt.done)
		got = step(exitOK, tt.args...)
		contains(tt.args, got, tt.none)
		if strings.Contains(got, "no longer") {
			t.Errorf("%q again: %q", tt.args, got)
		}
	}
	args = []string{"setup", "helm", "registry.example.org", "--unset"}
	contains(args, step(exitOK, args...), "Nothing to undo: helm does not ask oidc-auth for registry.example.org")

	// Set up again after the undo: the emptied config takes a new entry.
	args = []string{"setup", "docker", "registry.example.org", "--host", "https://other.example.org"}
	contains(args, step(exitOK, args...), "Next: try `docker pull registry.example.org/…`.")
}
