package oidcauth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// doctorCommand checks the setup and says how to fix what is wrong.
func (a *app) doctorCommand(onUsage cli.OnUsageErrorFunc, storeFlag func() cli.Flag) *cli.Command {
	return &cli.Command{
		Name:  "doctor",
		Usage: "check the setup and say how to fix what is wrong",
		Description: "Checks, one line each: the three binaries on PATH (git and docker find the helpers\n" +
			"only there), the config file, which token store answers and how fast, the OS keychain,\n" +
			"which URLs git and which registries docker ask oidc-auth for, each login, and for each\n" +
			"server whether it answers and whether this computer's clock agrees with its Date header.\n" +
			"A failed check (✗) names the command that fixes it; a warning (!) does not fail.\n" +
			"Servers are sent one plain GET each, with no credentials, within " + doctorTimeout.String() + ".\n\n" +
			"Exit status: 0 when no check failed, 1 when one did.",
		Flags:        []cli.Flag{&cli.BoolFlag{Name: "json", Usage: "print the checks as JSON"}, storeFlag()},
		OnUsageError: onUsage,
		Action:       a.doctor,
	}
}

// Levels of a check.
const (
	levelOK      = "ok"
	levelWarning = "warning"
	levelError   = "error"
)

// doctorTimeout bounds each network check; they run in parallel.
const doctorTimeout = 5 * time.Second

// clockTolerance is how far this computer's clock may be off a server's
// before doctor warns: tokens carry absolute expiries.
const clockTolerance = time.Minute

// installCommand installs the four binaries: the three commands and the
// core they hand over to.
const installCommand = "go install github.com/oidc-auth/oidc-auth/cmd/...@latest"

// check is one line of doctor's report.
type check struct {
	// Name says what was checked ("binary git-credential-oidc", "login
	// https://…").
	Name string `json:"name"`
	// OK reports whether the check passed without a warning.
	OK bool `json:"ok"`
	// Level is levelOK, levelWarning or levelError.
	Level string `json:"level"`
	// Detail is what was found, for people.
	Detail string `json:"detail"`
	// Fix is the command that fixes it, "" when there is none to give.
	Fix string `json:"fix,omitempty"`
}

func okCheck(name, format string, a ...any) check {
	return check{Name: name, OK: true, Level: levelOK, Detail: fmt.Sprintf(format, a...)}
}

func warnCheck(name, fix, format string, a ...any) check {
	return check{Name: name, Level: levelWarning, Detail: fmt.Sprintf(format, a...), Fix: fix}
}

func failCheck(name, fix, format string, a ...any) check {
	return check{Name: name, Level: levelError, Detail: fmt.Sprintf(format, a...), Fix: fix}
}

// doctorReport is the output of `doctor --json`.
type doctorReport struct {
	Checks []check `json:"checks"`
}

// doctorServer is a server doctor contacts: a stored login's, or a config
// entry's.
type doctorServer struct {
	key, name string
	url       string // what is requested: the server URL, or the issuer's discovery document
	allowHTTP bool
}

func (a *app) doctor(c *cli.Context) error {
	if c.NArg() > 0 {
		return usagef(c, "doctor takes no arguments")
	}
	ctx := c.Context
	var checks []check
	add := func(cs ...check) { checks = append(checks, cs...) }

	cfgPath, cfgPathErr := helper.ConfigPath()
	cfg, cfgErr := (*helper.Config)(nil), cfgPathErr
	if cfgPathErr == nil {
		cfg, cfgErr = helper.LoadConfig(cfgPath)
	}
	store, storeErr := a.openStore(c)
	var entries []keyring.Entry
	var probe keyring.Probe
	var listErr error
	if storeErr == nil {
		probe = keyring.ProbeStore(ctx, store)
		if probe.Err == nil {
			list, err := []keyring.Entry(nil), error(nil)
			if auto, ok := store.(*keyring.AutoStore); ok && probe.Keychain != keyring.KeychainAvailable {
				list, err = auto.File.List(ctx) // the keychain was asked once, and did not do
			} else {
				list, err = store.List(ctx)
			}
			listErr = err
			if err == nil {
				for _, e := range list {
					if !helper.IsDockerKey(e.Key) {
						entries = append(entries, e)
					}
				}
			}
		}
	}

	// The network checks run while the local ones do.
	servers := doctorServers(cfg, entries)
	network := make([][]check, len(servers))
	var wg sync.WaitGroup
	for i, s := range servers {
		wg.Go(func() { network[i] = checkServer(ctx, s) })
	}

	gitUses, gitErr := []helper.Use(nil), error(nil)
	_, noGit := exec.LookPath("git")
	if noGit == nil {
		gitUses, gitErr = helper.GitUses(ctx, cfg)
	}
	dockerDir, dockerErr := helper.DockerConfigDir()
	var dockerUses []helper.Use
	if dockerErr == nil {
		dockerUses, dockerErr = helper.DockerUses(cfg, dockerDir)
	}
	configUses := helper.ConfigUses(cfg, cfgPath)
	wantGit := len(gitUses) > 0 || slices.ContainsFunc(configUses, func(u helper.Use) bool { return u.Tool == helper.ToolGit })
	wantDocker := len(dockerUses) > 0 || slices.ContainsFunc(configUses, func(u helper.Use) bool { return u.Tool == helper.ToolDocker })

	add(checkBinaries(wantGit, wantDocker)...)
	add(checkConfig(cfgPath, cfg, cfgErr))
	add(checkStore(store, storeErr, probe)...)
	if listErr != nil {
		add(failCheck("store list", "", "the stored logins cannot be listed: %s", message(listErr)))
	}
	add(checkGit(ctx, cfg, noGit, gitUses, gitErr)...)
	add(checkDocker(cfg, dockerDir, dockerUses, dockerErr)...)
	add(checkLogins(cfg, entries, slices.Concat(configUses, gitUses, dockerUses), time.Now())...)
	wg.Wait()
	for _, cs := range network {
		add(cs...)
	}

	if c.Bool("json") {
		if err := writeJSON(a.stdout, doctorReport{Checks: checks}); err != nil {
			return err
		}
	} else {
		writeChecks(a.stdout, checks, colourful(a.stdout))
	}
	failed, warned := 0, 0
	for _, ch := range checks {
		switch ch.Level {
		case levelError:
			failed++
		case levelWarning:
			warned++
		}
	}
	one, many := "the line marked ✗ says how to fix it", "the lines marked ✗ say how to fix them"
	if c.Bool("json") {
		one, many = "its \"fix\" says how to fix it", "their \"fix\" says how to fix them"
	}
	switch {
	case failed == 1:
		return errors.New("1 check failed; " + one)
	case failed > 1:
		return fmt.Errorf("%d checks failed; %s", failed, many)
	case warned == 1:
		fmt.Fprintln(a.stderr, "No check failed, with 1 warning.")
	case warned > 1:
		fmt.Fprintf(a.stderr, "No check failed, with %d warnings.\n", warned)
	default:
		fmt.Fprintln(a.stderr, "No problems found.")
	}
	return nil
}

// colourful reports whether w is a terminal that may be given colour:
// NO_COLOR (https://no-color.org) unset or empty, and TERM not dumb.
func colourful(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb" {
		return false
	}
	return term.IsTerminal(int(f.Fd()))
}

// writeChecks prints one line per check: ✓ for a pass, ! for a warning,
// ✗ for a failure, with the fix in backquotes.
func writeChecks(w io.Writer, checks []check, colour bool) {
	for _, ch := range checks {
		mark, paint := "✓", "\x1b[32m"
		switch ch.Level {
		case levelWarning:
			mark, paint = "!", "\x1b[33m"
		case levelError:
			mark, paint = "✗", "\x1b[31m"
		}
		if colour {
			mark = paint + mark + "\x1b[0m"
		}
		line := mark + " " + flows.TerminalSafe(ch.Detail)
		if ch.Fix != "" {
			line += " — fix: `" + flows.TerminalSafe(ch.Fix) + "`"
		}
		fmt.Fprintln(w, line)
	}
}

// checkBinaries checks that git and docker find the helpers on PATH, and
// that they are the ones beside the running oidc-auth. A missing helper
// fails when its tool is set up to ask it, and only warns otherwise.
func checkBinaries(wantGit, wantDocker bool) []check {
	exeDir := ""
	if exe, err := os.Executable(); err == nil {
		if real, err := filepath.EvalSymlinks(exe); err == nil {
			exe = real
		}
		exeDir = filepath.Dir(exe)
	}
	var out []check
	for _, b := range []struct {
		name, why string
		needed    bool
	}{
		{"oidc-auth", "scripts and people run it by name", false},
		{"git-credential-oidc", "git finds its credential helper only there", wantGit},
		{"docker-credential-oidc", "docker finds its credential helper only there", wantDocker},
	} {
		name := "binary " + b.name
		beside := ""
		if exeDir != "" {
			p := filepath.Join(exeDir, b.name+exeSuffix())
			if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
				beside = p
			}
		}
		fix := installCommand
		if beside != "" {
			fix = pathFix(exeDir)
		}
		found, err := exec.LookPath(b.name)
		if err != nil {
			if b.needed {
				out = append(out, failCheck(name, fix, "%s is not on PATH; %s", b.name, b.why))
			} else {
				out = append(out, warnCheck(name, fix, "%s is not on PATH; %s", b.name, b.why))
			}
			continue
		}
		real := found
		if r, err := filepath.EvalSymlinks(found); err == nil {
			real = r
		}
		if abs, err := filepath.Abs(real); err == nil {
			real = abs
		}
		if exeDir != "" && filepath.Dir(real) != exeDir {
			out = append(out, warnCheck(name, fix, "%s on PATH is %s, not the one beside this oidc-auth in %s; they may be different versions", b.name, found, exeDir))
			continue
		}
		out = append(out, okCheck(name, "%s is on PATH: %s", b.name, found))
	}
	return append(out, checkCore(exeDir))
}

// core is the binary the commands hand over to (see internal/handoff).
const core = "oidc-auth-core"

// checkCore checks that each command found on PATH finds the core it hands
// over to: beside it (its symbolic links resolved), else on PATH. Without
// one a command cannot run at all; one only on PATH may be another
// version. exeDir is the running core's directory.
func checkCore(exeDir string) check {
	const name = "binary " + core
	onPath := ""
	if p, err := exec.LookPath(core); err == nil && filepath.IsAbs(p) {
		onPath = p
	}
	var missing, viaPath []string
	for _, cmd := range []string{"oidc-auth", "git-credential-oidc", "docker-credential-oidc"} {
		found, err := exec.LookPath(cmd)
		if err != nil {
			continue // checkBinaries reports it
		}
		real := found
		if r, err := filepath.EvalSymlinks(found); err == nil {
			real = r
		}
		if fi, err := os.Stat(filepath.Join(filepath.Dir(real), core+exeSuffix())); err == nil && !fi.IsDir() {
			continue
		}
		if onPath != "" {
			viaPath = append(viaPath, found)
		} else {
			missing = append(missing, found)
		}
	}
	switch {
	case len(missing) > 0:
		return failCheck(name, installCommand, "%s is neither beside %s nor on PATH; those commands cannot run: install all four binaries together", core, strings.Join(missing, ", "))
	case len(viaPath) > 0:
		return warnCheck(name, installCommand, "%s is not beside %s, which run the one on PATH, %s; they may be different versions", core, strings.Join(viaPath, ", "), onPath)
	}
	return okCheck(name, "%s, which the commands hand over to, is in %s", core, exeDir)
}

// elapsed is a duration measured, as people read it: "40 µs", "1.4 ms",
// "12 ms", "1.2s".
func elapsed(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d/time.Microsecond)
	case d < 10*time.Millisecond:
		return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
	case d < time.Second:
		return fmt.Sprintf("%d ms", d/time.Millisecond)
	}
	return d.Round(100 * time.Millisecond).String()
}

// exeSuffix is the file name suffix of programs.
func exeSuffix() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}

// pathFix is the command that puts dir first on PATH.
func pathFix(dir string) string {
	if runtime.GOOS == "windows" {
		return `$env:PATH = "` + dir + `;$env:PATH"`
	}
	return `export PATH="` + dir + `:$PATH"`
}

// editCommand opens path in the person's editor.
func editCommand(path string) string {
	if runtime.GOOS == "windows" {
		return "notepad " + path
	}
	return "${EDITOR:-vi} " + path
}

// checkConfig checks the config file.
func checkConfig(path string, cfg *helper.Config, err error) check {
	switch {
	case err != nil && path == "":
		return failCheck("config", "", "the config file cannot be found: %s", message(err))
	case err != nil:
		return failCheck("config", editCommand(path), "the config file is not valid: %s", message(err))
	}
	if _, statErr := os.Stat(path); errors.Is(statErr, fs.ErrNotExist) {
		return okCheck("config", "no config file at %s; each login answers git and docker for its own host only (`oidc-auth setup` writes one)", path)
	}
	entries := "entries"
	if len(cfg.Servers) == 1 {
		entries = "entry"
	}
	return okCheck("config", "config file %s is valid: %d [[server]] %s", path, len(cfg.Servers), entries)
}

// checkStore says where tokens live, how fast the store answers, and in
// what state the keychain is.
func checkStore(store keyring.TokenStore, openErr error, p keyring.Probe) []check {
	if openErr != nil {
		return []check{failCheck("store", "", "the token store cannot be opened: %s", message(openErr))}
	}
	var out []check
	where := "the OS keychain"
	if p.Backend == keyring.BackendFile {
		where = "the file " + p.FilePath
	}
	ms := elapsed(p.Elapsed)
	switch {
	case p.Err != nil:
		out = append(out, failCheck("store", "", "the token store (%s) cannot be read: %s", where, message(p.Err)))
	case p.Elapsed > time.Second:
		out = append(out, warnCheck("store", "", "tokens are stored in %s, which took %v to answer; every git and docker request waits as long", where, ms))
	default:
		out = append(out, okCheck("store", "tokens are stored in %s (answered in %v)", where, ms))
	}
	fileFix := "export " + keyring.StoreEnv + "=file"
	_, auto := store.(*keyring.AutoStore)
	switch p.Keychain {
	case keyring.KeychainNotUsed:
		why := "the file store was chosen"
		switch {
		case os.Getenv(keyring.TokenFileEnv) != "":
			why = "$" + keyring.TokenFileEnv + " is set"
		case strings.EqualFold(os.Getenv(keyring.StoreEnv), keyring.BackendFile):
			why = keyring.StoreEnv + "=file"
		}
		out = append(out, okCheck("keychain", "the OS keychain is not used: %s", why))
	case keyring.KeychainAvailable:
		if !p.SilentUntil.IsZero() {
			out = append(out, warnCheck("keychain", "", "the OS keychain answers now (in %v), but an earlier process found it silent; new tokens go to the file until %s",
				elapsed(p.KeychainElapsed), p.SilentUntil.Local().Format("15:04:05")))
		} else {
			out = append(out, okCheck("keychain", "the OS keychain is available (answered in %v)", elapsed(p.KeychainElapsed)))
		}
	default:
		advice := map[keyring.KeychainState]string{
			keyring.KeychainLocked: "unlock it (log in to the desktop session), or keep tokens in the file",
			keyring.KeychainAbsent: "there is no keychain service in this session (common over SSH and in containers)",
			keyring.KeychainSilent: "a keychain that does not answer makes every git and docker request wait",
		}[p.Keychain]
		if advice != "" {
			advice = "; " + advice
		}
		if auto {
			out = append(out, warnCheck("keychain", fileFix, "the OS keychain is %s (%s); tokens are stored in the file %s instead%s",
				p.Keychain, p.KeychainReason, p.FilePath, advice))
		} else {
			out = append(out, failCheck("keychain", fileFix, "the OS keychain was asked for but is %s (%s)%s", p.Keychain, p.KeychainReason, advice))
		}
	}
	return out
}

// setupCommandFor is the `oidc-auth setup` line for a config entry.
func setupCommandFor(tool string, s *helper.Server) string {
	server := "--host " + s.Host
	if s.Issuer != "" {
		server = "--issuer " + s.Issuer + " --client-id " + s.ClientID
	}
	return "oidc-auth setup " + tool + " " + s.Match + " " + server
}

// checkGit says which URLs git asks oidc-auth for, and checks that every
// git entry of the config file is one of them, with no storage helper
// beside ours.
func checkGit(ctx context.Context, cfg *helper.Config, noGit error, uses []helper.Use, err error) []check {
	var entries []*helper.Server
	if cfg != nil {
		for i := range cfg.Servers {
			if strings.Contains(cfg.Servers[i].Match, "://") {
				entries = append(entries, &cfg.Servers[i])
			}
		}
	}
	if noGit != nil {
		if len(entries) > 0 {
			return []check{failCheck("git", "", "git is not on PATH, but the config file has git entries")}
		}
		return []check{okCheck("git", "git is not installed; nothing to check")}
	}
	if err != nil {
		return []check{failCheck("git", "", "git's config cannot be read: %s", message(err))}
	}
	var out []check
	if len(uses) == 0 {
		out = append(out, okCheck("git", "git does not ask oidc-auth for any URL (`oidc-auth setup git URL --host HOST` sets it up)"))
	} else {
		var targets []string
		for _, u := range uses {
			if u.Target == helper.EveryTarget {
				targets = append(targets, "every URL")
			} else {
				targets = append(targets, u.Target)
			}
		}
		out = append(out, okCheck("git", "git asks oidc-auth for %s", strings.Join(targets, ", ")))
	}
	release, verr := helper.GitVersion(ctx)
	marked := verr == nil && release.AtLeast(2, 46)
	// The URLs of git's own entries are checked for storage helpers too;
	// git asks ours for them by definition.
	checked := map[string]bool{}
	for _, s := range entries {
		checked[strings.TrimSuffix(s.Match, "/")] = true
	}
	for _, u := range uses {
		if u.Target != helper.EveryTarget && !checked[strings.TrimSuffix(u.Target, "/")] {
			checked[strings.TrimSuffix(u.Target, "/")] = true
			entries = append(entries, &helper.Server{Match: u.Target})
		}
	}
	for _, s := range entries {
		list, err := helper.CredentialHelpers(ctx, s.Match)
		if err != nil {
			out = append(out, failCheck("git "+s.Match, "", "git's helpers for %s cannot be listed: %s", s.Match, message(err)))
			continue
		}
		if !slices.ContainsFunc(list, func(h helper.GitHelper) bool { return h.Ours }) {
			if s.Host == "" && s.Issuer == "" {
				continue // a URL of git's own config, where a later empty helper line drops ours
			}
			out = append(out, failCheck("git "+s.Match, setupCommandFor("git", s), "git does not ask oidc-auth for %s, which the config file names", s.Match))
			continue
		}
		for _, h := range list {
			if h.Ours || marked && (h.Name == "store" || h.Name == "cache") {
				continue
			}
			where := "before"
			if h.AfterOurs {
				where = "after"
			}
			fix := strings.TrimSpace(h.Remedy)
			if !strings.HasPrefix(fix, "git ") {
				fix = "" // a sentence, not a command: it goes in the detail
			}
			detail := fmt.Sprintf("git also runs the credential helper %q %s ours for %s, which may keep the short-lived token", h.Name, where, s.Match)
			if fix == "" && h.Remedy != "" {
				detail += "; " + h.Remedy
			}
			out = append(out, warnCheck("git storage helper "+h.Name+" "+s.Match, fix, "%s", detail))
		}
	}
	return out
}

// checkDocker says which registries docker asks oidc-auth for, and checks
// the registries of the config file.
func checkDocker(cfg *helper.Config, dir string, uses []helper.Use, err error) []check {
	if err != nil {
		fix := ""
		if dir != "" {
			fix = editCommand(filepath.Join(dir, "config.json"))
		}
		return []check{failCheck("docker", fix, "docker's config cannot be read: %s", message(err))}
	}
	var out []check
	if len(uses) == 0 {
		out = append(out, okCheck("docker", "docker does not ask oidc-auth for any registry (`oidc-auth setup docker REGISTRY --host HOST` sets it up)"))
	} else {
		var targets []string
		for _, u := range uses {
			if u.Target == helper.EveryTarget {
				targets = append(targets, "every registry (credsStore)")
			} else {
				targets = append(targets, u.Target)
			}
		}
		out = append(out, okCheck("docker", "docker asks oidc-auth for %s", strings.Join(targets, ", ")))
	}
	if cfg == nil {
		return out
	}
	helm, _ := helper.HelmRegistryConfigPath()
	for i := range cfg.Servers {
		s := &cfg.Servers[i]
		if strings.Contains(s.Match, "://") {
			continue
		}
		asks, _ := helper.AsksHelper(filepath.Join(dir, "config.json"), s.Match)
		if !asks {
			asks, _ = helper.AsksHelper(helm, s.Match)
		}
		if !asks {
			out = append(out, warnCheck("docker "+s.Match, setupCommandFor("docker", s), "neither docker nor helm asks oidc-auth for %s, which the config file names", s.Match))
		}
	}
	return out
}

// checkLogins checks each stored login, each login the config file
// names, and each login that a git or docker entry needs.
func checkLogins(cfg *helper.Config, entries []keyring.Entry, uses []helper.Use, now time.Time) []check {
	var out []check
	if len(entries) == 0 && (cfg == nil || len(cfg.Servers) == 0) {
		out = append(out, warnCheck("logins", "oidc-auth login HOST", "no stored logins"))
	}
	stored := map[string]bool{}
	for _, e := range entries {
		stored[e.Key] = true
		name := e.Key
		login := "oidc-auth login " + e.Key
		switch {
		case e.Key == "":
			name = "the token in $" + keyring.TokenFileEnv
			login = ""
		case e.Server != nil:
			fc := flows.ConfigFromServer(e.Server)
			if e.Server.Host == "" && e.Server.Issuer == "" {
				fc.Host = e.Key
			}
			name, login = fc.Name(), fc.LoginCommand()
		}
		tok := &e.Token
		words := "access token " + accessWords(tok, now) + ", refresh token " + refreshWords(tok, now)
		if tok.Valid(now) || tok.Refreshable(now) {
			out = append(out, okCheck("login "+name, "login to %s: %s", name, words))
		} else {
			out = append(out, failCheck("login "+name, login, "login to %s has expired: %s", name, words))
		}
	}
	if cfg != nil {
		for i := range cfg.Servers {
			s := &cfg.Servers[i]
			fc := helper.Flows(s)
			key, err := fc.Key()
			if err != nil || stored[key] {
				continue
			}
			stored[key] = true
			out = append(out, failCheck("login "+fc.Name(), fc.LoginCommand(), "not logged in to %s, which the config file names for %s", fc.Name(), s.Match))
		}
	}
	for _, u := range uses {
		if u.Login == "" || stored[u.Login] {
			continue
		}
		stored[u.Login] = true
		fc := flows.Config{Host: u.Login}
		out = append(out, warnCheck("login "+u.Login, fc.LoginCommand(), "%s asks oidc-auth for %s, but there is no login for %s", u.Tool, u.Target, u.Login))
	}
	return out
}

// doctorServers lists the servers to contact, once each: those of the
// stored logins, then those of the config file.
func doctorServers(cfg *helper.Config, entries []keyring.Entry) []doctorServer {
	var out []doctorServer
	seen := map[string]int{}
	addServer := func(fc flows.Config, allow bool) {
		key, err := fc.Key()
		if err != nil {
			return
		}
		if i, ok := seen[key]; ok {
			out[i].allowHTTP = out[i].allowHTTP || allow
			return
		}
		s := doctorServer{key: key, name: fc.Name(), url: fc.Host, allowHTTP: allow}
		if fc.Issuer != "" {
			s.url = strings.TrimSuffix(fc.Issuer, "/") + "/.well-known/openid-configuration"
		}
		seen[key] = len(out)
		out = append(out, s)
	}
	for _, e := range entries {
		switch {
		case e.Key == "":
		case e.Server != nil && (e.Server.Host != "" || e.Server.Issuer != ""):
			addServer(flows.ConfigFromServer(e.Server), false)
		default:
			addServer(flows.Config{Host: e.Key}, false)
		}
	}
	if cfg != nil {
		for i := range cfg.Servers {
			addServer(helper.Flows(&cfg.Servers[i]), cfg.Servers[i].AllowHTTP)
		}
	}
	return out
}

// checkServer sends s one plain GET, with no credentials and no redirect
// followed, and checks that it answers and that its Date header agrees
// with this computer's clock. A plain-http server that is not on this
// machine is not contacted: it is a failure of its own.
func checkServer(ctx context.Context, s doctorServer) []check {
	name := "server " + s.name
	u, err := url.Parse(s.url)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return []check{failCheck(name, "", "%s is not an http or https URL", s.name)}
	}
	if u.Scheme == "http" && !flows.IsLoopback(u.Hostname()) {
		if !s.allowHTTP {
			return []check{failCheck(name, "", "%s is plain http:// and not on this machine: tokens would cross the network in clear text, so oidc-auth refuses it unless `--allow-http` (login, token) or `allow_http = true` (its config entry) says so; use its https:// URL", s.name)}
		}
		return []check{warnCheck(name, "", "%s is plain http:// and not on this machine; allow_http = true lets tokens cross the network in clear text (not contacted)", s.name)}
	}
	ctx, cancel := context.WithTimeout(ctx, doctorTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return []check{failCheck(name, "", "%s: %v", s.name, err)}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	start := time.Now()
	resp, err := client.Do(req)
	took := time.Since(start)
	if err != nil {
		flows.Debugf(ctx, flows.DebugDecisions, "doctor: GET %s: %v after %v", u.Redacted(), err, elapsed(took))
		why := err.Error()
		if ctx.Err() != nil {
			why = "no answer within " + doctorTimeout.String()
		}
		return []check{failCheck(name, "curl -sSI "+u.String(), "cannot reach %s: %s", s.name, why)}
	}
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	resp.Body.Close()
	flows.Debugf(ctx, flows.DebugDecisions, "doctor: GET %s: %d after %v", u.Redacted(), resp.StatusCode, elapsed(took))
	out := []check{okCheck(name, "%s is reachable (it answered HTTP %d in %v)", s.name, resp.StatusCode, elapsed(took))}
	if resp.StatusCode >= 500 {
		out[0] = warnCheck(name, "", "%s answers, but with HTTP %d (in %v): the server has trouble", s.name, resp.StatusCode, elapsed(took))
	}
	date, err := http.ParseTime(resp.Header.Get("Date"))
	if err != nil {
		return append(out, okCheck("clock "+s.name, "%s sends no Date header to compare this computer's clock with", s.name))
	}
	// The server stamped its answer between start and the answer's
	// arrival; its Date has a resolution of a second.
	// Date is truncated to the second: the server's time was half a second
	// later on average.
	offset := start.Add(took / 2).Sub(date.Add(500 * time.Millisecond))
	if offset.Abs() <= clockTolerance+time.Second {
		off := "less than a second"
		if r := offset.Abs().Round(time.Second); r >= time.Second {
			off = r.String()
		}
		return append(out, okCheck("clock "+s.name, "this computer's clock agrees with %s's (off by %s)", s.name, off))
	}
	dir := "ahead of"
	if offset < 0 {
		dir = "behind"
	}
	return append(out, warnCheck("clock "+s.name, clockFix(),
		"this computer's clock is %s %s %s's (%s); tokens may look expired too early or too late",
		roughly(offset.Abs()), dir, s.name, date.Local().Format("15:04:05 MST")))
}

// roughly is span rounded to the nearest unit instead of down: a clock
// 2h59m59.6s off is "3h" off.
func roughly(d time.Duration) string {
	for _, unit := range []struct{ below, unit time.Duration }{
		{90 * time.Second, time.Second}, {90 * time.Minute, time.Minute}, {48 * time.Hour, time.Hour},
	} {
		if r := d.Round(unit.unit); r < unit.below {
			return span(r)
		}
	}
	return span(d.Round(24 * time.Hour))
}

// clockFix is the command that sets the clock from the network.
func clockFix() string {
	switch runtime.GOOS {
	case "darwin":
		return "sudo sntp -sS time.apple.com"
	case "windows":
		return "w32tm /resync"
	}
	return "sudo timedatectl set-ntp true"
}
