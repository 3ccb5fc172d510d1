// Package integration holds end-to-end tests that build the real binaries
// and drive them as a person, a script or a batch job would, against
// py-oidc-auth-compatible servers on the loopback interface.
package integration

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// Paths of the binaries TestMain builds. binDir holds the product
// binaries, to put first on PATH where git or docker must find a helper:
// the three commands and oidc-auth-core, which they hand over to.
var (
	binDir              string
	oidcAuthBin         string
	gitCredentialBin    string
	dockerCredentialBin string
	coreBin             string
	testBrowserBin      string
)

// coverDirVariable names the directory where the binaries the tests build
// write their coverage counters (GOCOVERDIR format); unset, they are built
// without coverage. scripts/coverage sets it.
const coverDirVariable = "OIDC_AUTH_COVERDIR"

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

// binDirVariable names a directory that holds the product binaries built
// already (oidc-auth, git-credential-oidc, docker-credential-oidc and
// oidc-auth-core), with
// testbrowser one level above it. scripts/test-windows sets it: under Wine
// there is no go command to build them with. Unset, TestMain builds them.
const binDirVariable = "OIDC_AUTH_TEST_BINDIR"

// exe is the suffix of executable files here: ".exe" on Windows.
var exe = func() string {
	if runtime.GOOS == "windows" {
		return ".exe"
	}
	return ""
}()

func testMain(m *testing.M) int {
	if mode, ok := os.LookupEnv(fakeCoreVariable); ok {
		return fakeCore(mode) // started by a command, as oidc-auth-core
	}
	if prebuilt := os.Getenv(binDirVariable); prebuilt != "" {
		if err := usePrebuilt(prebuilt); err != nil {
			fmt.Fprintf(os.Stderr, "integration: %s: %v\n", binDirVariable, err)
			return 1
		}
		return m.Run()
	}
	dir, err := os.MkdirTemp("", "oidc-auth-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "integration:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	setBinaries(filepath.Join(dir, "bin"))
	// One go build for the product binaries, one for the test browser.
	product := []string{"build", "-o", binDir + string(filepath.Separator)}
	if cover := os.Getenv(coverDirVariable); cover != "" {
		// Coverage of the binaries: built with -cover, they write their
		// counters to $GOCOVERDIR when they exit, and every child inherits
		// it from here (inheritedEnv keeps it).
		abs, err := filepath.Abs(cover)
		if err == nil {
			err = os.MkdirAll(abs, 0o755)
		}
		if err == nil {
			err = os.Setenv("GOCOVERDIR", abs)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "integration: %s: %v\n", coverDirVariable, err)
			return 1
		}
		product = append(product, "-cover", "-covermode=atomic", "-coverpkg=github.com/oidc-auth/oidc-auth/...")
	}
	for _, build := range [][]string{
		append(product, "github.com/oidc-auth/oidc-auth/cmd/..."),
		{"build", "-o", testBrowserBin, "github.com/oidc-auth/oidc-auth/integration/testbrowser"},
	} {
		if err := os.MkdirAll(binDir, 0o755); err != nil {
			fmt.Fprintln(os.Stderr, "integration:", err)
			return 1
		}
		cmd := exec.Command("go", build...)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(os.Stderr, "integration: go %s: %v\n", strings.Join(build, " "), err)
			return 1
		}
	}
	return m.Run()
}

// setBinaries sets the binaries' paths for the bin directory dir, with the
// test browser in dir's parent.
func setBinaries(dir string) {
	binDir = dir
	oidcAuthBin = filepath.Join(binDir, "oidc-auth"+exe)
	gitCredentialBin = filepath.Join(binDir, "git-credential-oidc"+exe)
	dockerCredentialBin = filepath.Join(binDir, "docker-credential-oidc"+exe)
	coreBin = filepath.Join(binDir, "oidc-auth-core"+exe)
	testBrowserBin = filepath.Join(filepath.Dir(binDir), "testbrowser"+exe)
}

// usePrebuilt takes the binaries from dir instead of building them, and
// checks that every one is there.
func usePrebuilt(dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return err
	}
	setBinaries(abs)
	for _, bin := range []string{oidcAuthBin, gitCredentialBin, dockerCredentialBin, coreBin, testBrowserBin} {
		if fi, err := os.Stat(bin); err != nil || fi.IsDir() {
			return fmt.Errorf("no binary %s (build the product binaries into %s and testbrowser into %s)", bin, binDir, filepath.Dir(binDir))
		}
	}
	return nil
}

// jobVariables are the batch-job variables the flow core knows (flows.JobEnvironment); jobPrefixes
// catch their relatives. None of them may leak into a child's environment
// from the machine running the tests.
var (
	jobVariables = []string{
		"SLURM_JOB_ID", "SLURM_NODELIST", "PBS_JOBID", "PBS_ENVIRONMENT", "PBS_NODEFILE",
		"JOB_ID", "SGE_TASK_ID", "PE_HOSTFILE", "LSB_JOBID", "LSB_HOSTS", "OAR_JOB_ID",
		"OAR_NODEFILE", "OMPI_COMM_WORLD_SIZE", "PMI_RANK", "MPI_LOCALRANKID",
		"KUBERNETES_SERVICE_HOST", "KUBERNETES_PORT", "FREVA_BATCH_JOB", "JUPYTERHUB_USER",
	}
	jobPrefixes = []string{"SLURM_", "PBS_", "SGE_", "LSB_", "OAR_", "OMPI_", "PMI_", "MPI_", "KUBERNETES_", "FREVA_", "JUPYTERHUB_"}
	// dropPrefixes are further variables that would reach outside the
	// sandbox: the real home, keychain and config, a browser, proxies.
	dropPrefixes = []string{"OIDC_", "XDG_", "TESTBROWSER_", "DBUS_", "DOCKER_", "GIT_"}
	dropExact    = []string{"HOME", "USERPROFILE", "APPDATA", "LOCALAPPDATA", "HOMEDRIVE", "HOMEPATH", "BROWSER", "JOB_ID", "REGISTRY_AUTH_FILE", "PE_HOSTFILE", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "all_proxy", "ALL_PROXY", "no_proxy", "NO_PROXY"}
)

// inheritedEnv is the test process's environment without job variables and
// without anything that points outside a sandbox.
func inheritedEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if dropped(name) {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func dropped(name string) bool {
	if runtime.GOOS == "windows" {
		// Windows names its variables without regard to case; the lists
		// are in upper case, but for the proxies, listed in both.
		name = strings.ToUpper(name)
	}
	for _, list := range [][]string{jobVariables, dropExact} {
		for _, v := range list {
			if name == v {
				return true
			}
		}
	}
	for _, list := range [][]string{jobPrefixes, dropPrefixes} {
		for _, p := range list {
			if strings.HasPrefix(name, p) {
				return true
			}
		}
	}
	return false
}

// homeEnv is the environment that makes home the home directory of a
// child: HOME, and on Windows USERPROFILE (the home directory there) with
// the profile's roaming and local application-data directories inside it,
// APPDATA and LOCALAPPDATA, where os.UserConfigDir and os.UserCacheDir
// point. makeHome creates those directories.
func homeEnv(home string) []string {
	env := []string{"HOME=" + home}
	if runtime.GOOS == "windows" {
		env = append(env,
			"USERPROFILE="+home,
			"APPDATA="+appData(home),
			"LOCALAPPDATA="+localAppData(home),
		)
	}
	return env
}

// appData is %APPDATA% of a Windows profile at home.
func appData(home string) string { return filepath.Join(home, "AppData", "Roaming") }

// localAppData is %LOCALAPPDATA% of a Windows profile at home.
func localAppData(home string) string { return filepath.Join(home, "AppData", "Local") }

// makeHome creates the home directory home, and on Windows the
// application-data directories homeEnv names, as a new profile has them.
func makeHome(home string) error {
	dirs := []string{home}
	if runtime.GOOS == "windows" {
		dirs = append(dirs, appData(home), localAppData(home))
	}
	for _, d := range dirs {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
	}
	return nil
}

// sandbox is one isolated user of oidc-auth: its own HOME (and on Windows
// USERPROFILE, APPDATA and LOCALAPPDATA) and XDG directories, the test browser as $BROWSER, and a record of every token
// it has learned and every stderr it has seen, so that a test's cleanup can
// check that no token ever reached stderr.
type sandbox struct {
	t          *testing.T
	dir        string
	home       string
	cache      string
	config     string
	browserLog string
	// env holds extra KEY=VALUE pairs for every run (OIDC_TOKEN_FILE, …).
	env []string

	mu      sync.Mutex
	secrets map[string]bool
	stderrs []string
}

// newSandbox makes an empty sandbox whose cleanup checks that no token it
// learned appeared on any stderr.
func newSandbox(t *testing.T) *sandbox {
	t.Helper()
	dir := t.TempDir()
	s := &sandbox{
		t:          t,
		dir:        dir,
		home:       filepath.Join(dir, "home"),
		cache:      filepath.Join(dir, "cache"),
		config:     filepath.Join(dir, "config"),
		browserLog: filepath.Join(dir, "browser.log"),
		secrets:    map[string]bool{},
	}
	for _, d := range []string{s.cache, s.config} {
		if err := os.Mkdir(d, 0o700); err != nil {
			t.Fatal(err)
		}
	}
	if err := makeHome(s.home); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.checkSecrets)
	return s
}

// storePath is the default token file, $XDG_CACHE_HOME/oidc-auth/token-store.json.
func (s *sandbox) storePath() string {
	return filepath.Join(s.cache, "oidc-auth", "token-store.json")
}

// learn records token values that must never appear on stderr.
func (s *sandbox) learn(values ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range values {
		if v != "" {
			s.secrets[v] = true
		}
	}
}

func (s *sandbox) checkSecrets() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, stderr := range s.stderrs {
		for secret := range s.secrets {
			if strings.Contains(stderr, secret) {
				s.t.Errorf("run %d: stderr contains a token (%.8s…):\n%s", i+1, secret, stderr)
			}
		}
	}
}

// environ is the environment of every process the sandbox runs (oidc-auth,
// git, docker and the helpers they start): the test process's without job
// variables and anything pointing outside the sandbox, the sandbox's home
// (homeEnv) and XDG directories, the test browser, the file store (never a real
// keychain), the sandbox's own variables, then extra.
func (s *sandbox) environ(extra ...string) []string {
	env := append(append(inheritedEnv(), homeEnv(s.home)...),
		"XDG_CACHE_HOME="+s.cache,
		"XDG_CONFIG_HOME="+s.config,
		"BROWSER="+testBrowserBin,
		"TESTBROWSER_LOG="+s.browserLog,
		"OIDC_AUTH_STORE=file",
	)
	env = append(env, s.env...)
	return append(env, extra...)
}

// result is what one run of oidc-auth produced.
type result struct {
	args    []string
	stdout  string
	stderr  string
	code    int
	elapsed time.Duration
	// again runs the same command once more, as checkQuick does when a
	// run was slow.
	again func() (result, error)
}

func (r result) String() string {
	return fmt.Sprintf("%s: exit %d after %v\nstdout: %q\nstderr: %q", strings.Join(r.args, " "), r.code, r.elapsed.Round(time.Millisecond), r.stdout, r.stderr)
}

// outputDelay bounds how long a run's standard output and error may stay
// open after the process ended (exec.Cmd.WaitDelay): a process the run
// left behind that holds them fails the run. Under Wine the end of a
// process's output has once come more than 5 s after the process ended,
// in a full run of the Windows tests on two loaded cores (a refresh of
// TestRefreshWhileStoreHeldOpen, which passed 12 times out of 12 alone),
// so Windows gets more time: the commands there wait for the core they
// start, so nothing of theirs outlives them.
var outputDelay = func() time.Duration {
	if runtime.GOOS == "windows" {
		return 30 * time.Second
	}
	return 5 * time.Second
}()

// runTimeout bounds every run of oidc-auth.
const runTimeout = 40 * time.Second

// run executes oidc-auth with args in the sandbox, with stdin not a
// terminal.
func (s *sandbox) run(args ...string) result {
	s.t.Helper()
	return s.runEnv(nil, args...)
}

// runEnv is run with extra KEY=VALUE pairs in the child's environment.
func (s *sandbox) runEnv(extra []string, args ...string) result {
	s.t.Helper()
	return run(s.t, s, extra, args...)
}

// run executes the oidc-auth binary with an isolated environment: HOME and
// the XDG directories of the sandbox, the test browser as $BROWSER, no job
// variables, no OIDC_TOKEN_FILE unless the sandbox or extra sets one, and
// stdin from /dev/null (the non-interactive case). It returns stdout,
// stderr and the exit code separately.
func run(t *testing.T, s *sandbox, extra []string, args ...string) result {
	t.Helper()
	s.mu.Lock()
	for _, a := range args {
		for secret := range s.secrets {
			if strings.Contains(a, secret) {
				t.Errorf("argument %q carries a token", a)
			}
		}
	}
	s.mu.Unlock()
	r, err := s.execute(runTimeout, s.dir, "", s.environ(extra...), oidcAuthBin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// execute runs bin with args in dir, with stdin and env, bounded by
// timeout and without a controlling terminal, and records its stderr for
// the sandbox's secret check. A non-zero exit is a result; a process that
// could not run or did not end in time is an error.
//
// On Windows a command starts the core as a child, and Wine now and then
// fails that start as it fails the tests' own (see testfs.Start): such a
// run, which did nothing else, is run again, up to three times in all.
func (s *sandbox) execute(timeout time.Duration, dir, stdin string, env []string, bin string, args ...string) (result, error) {
	for try := 1; ; try++ {
		r, err := s.executeOnce(timeout, dir, stdin, env, bin, args...)
		if err != nil || try == 3 || runtime.GOOS != "windows" || r.code == 0 ||
			!strings.Contains(r.stderr, "cannot start") || !testfs.SpuriousStartError(errors.New(r.stderr)) {
			return r, err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// executeOnce is one run of execute.
func (s *sandbox) executeOnce(timeout time.Duration, dir, stdin string, env []string, bin string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var stdout, stderr bytes.Buffer
	start := time.Now()
	cmd, err := testfs.Start(func() *exec.Cmd {
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = env
		cmd.Dir = dir
		cmd.Stdin = strings.NewReader(stdin)
		detach(cmd)
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		cmd.WaitDelay = outputDelay
		return cmd
	})
	if err == nil {
		err = cmd.Wait()
	}
	r := result{args: append([]string{filepath.Base(bin)}, args...), stdout: stdout.String(), stderr: stderr.String(), elapsed: time.Since(start),
		again: func() (result, error) { return s.execute(timeout, dir, stdin, env, bin, args...) }}
	s.mu.Lock()
	s.stderrs = append(s.stderrs, r.stderr)
	s.mu.Unlock()
	var exit *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &exit) && ctx.Err() == nil:
		r.code = exit.ExitCode()
	default:
		return r, fmt.Errorf("%s: %v (after %v)\nstderr: %s", strings.Join(r.args, " "), err, r.elapsed, r.stderr)
	}
	return r, nil
}

// mustSucceed fails the test unless r exited 0.
func mustSucceed(t *testing.T, r result) {
	t.Helper()
	if r.code != 0 {
		t.Fatalf("want exit 0\n%v", r)
	}
}

// failureLine checks that r failed with exit code want, wrote nothing to
// stdout, and ended stderr with exactly one line "oidc-auth: …" that is no
// Go error chain; it returns that line without the prefix. Lines before it
// are the instructions a login shows a person (a device code, a URL).
func failureLine(t *testing.T, r result, want int) string {
	t.Helper()
	if r.code != want {
		t.Fatalf("want exit %d\n%v", want, r)
	}
	if r.stdout != "" {
		t.Errorf("stdout not empty\n%v", r)
	}
	if !strings.HasSuffix(r.stderr, "\n") {
		t.Fatalf("stderr does not end in a newline\n%v", r)
	}
	lines := strings.Split(strings.TrimSuffix(r.stderr, "\n"), "\n")
	last := lines[len(lines)-1]
	msg, ok := strings.CutPrefix(last, "oidc-auth: ")
	t.Logf("oidc-auth %s → exit %d after %v: %s", strings.Join(r.args, " "), r.code, r.elapsed.Round(time.Millisecond), last)
	if !ok {
		t.Fatalf("last stderr line %q does not start with \"oidc-auth: \"\n%v", last, r)
	}
	for _, l := range lines[:len(lines)-1] {
		if strings.HasPrefix(l, "oidc-auth: ") {
			t.Errorf("more than one error line on stderr\n%v", r)
		}
	}
	for _, chain := range []string{"error: error", "oidc-auth: oidc-auth", "flows: ", "keyring: keyring: "} {
		if strings.Contains(msg, chain) {
			t.Errorf("error line %q is a Go error chain (contains %q)", last, chain)
		}
	}
	if strings.TrimSpace(msg) == "" {
		t.Errorf("empty error message\n%v", r)
	}
	return msg
}

// onlyLine is failureLine for failures that must print nothing but the
// error line.
func onlyLine(t *testing.T, r result, want int) string {
	t.Helper()
	msg := failureLine(t, r, want)
	if n := strings.Count(r.stderr, "\n"); n != 1 {
		t.Errorf("stderr has %d lines, want exactly one\n%v", n, r)
	}
	return msg
}

// startServer starts a py-oidc-auth server below /api/app with a device
// poll interval of 1 s, unless opts says otherwise.
func startServer(t *testing.T, opts pyauthserver.Options) *pyauthserver.Server {
	t.Helper()
	if opts.Prefix == "" {
		opts.Prefix = "/api/app"
	}
	if opts.Interval == 0 {
		opts.Interval = 1
	}
	return pyauthserver.Start(t, opts)
}

// storeKey is the v1 store key of srv: scheme and host, path dropped.
func storeKey(t *testing.T, srv *pyauthserver.Server) string {
	t.Helper()
	return keyOf(t, srv.URL())
}

// keyOf is the v1 store key of a loopback URL with an explicit port.
func keyOf(t *testing.T, rawURL string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatal(err)
	}
	return u.Scheme + "://" + u.Host
}

// allRoutes are the routes counted by pyauthserver, and its finer token
// counters.
var allRoutes = []string{
	pyauthserver.RouteDevice, pyauthserver.RouteToken, pyauthserver.RouteLogin,
	pyauthserver.RouteLogout, pyauthserver.RouteUserinfo, pyauthserver.RouteAuthPorts,
	pyauthserver.RouteAuthorize, pyauthserver.RouteVerify, pyauthserver.RouteIdPLogout,
	pyauthserver.CountTokenDevice, pyauthserver.CountTokenRefresh, pyauthserver.CountTokenCode,
}

// requestCounts snapshots every request counter of srv.
func requestCounts(srv *pyauthserver.Server) map[string]int {
	m := map[string]int{}
	for _, r := range allRoutes {
		if n := srv.Count(r); n != 0 {
			m[r] = n
		}
	}
	return m
}

// storedToken is one token of the v1 file format.
type storedToken struct {
	AccessToken    string            `json:"access_token"`
	TokenType      string            `json:"token_type"`
	Expires        json.Number       `json:"expires"`
	RefreshToken   string            `json:"refresh_token"`
	RefreshExpires json.Number       `json:"refresh_expires"`
	Scope          string            `json:"scope"`
	Headers        map[string]string `json:"headers"`
}

// storedEntry is one server's entry of the v1 file format, with this
// client's "server" addition.
type storedEntry struct {
	Token    storedToken `json:"token"`
	StoredAt json.Number `json:"stored_at"`
	Server   *struct {
		Host string `json:"host"`
	} `json:"server"`
	raw json.RawMessage
}

// readStoreFile parses a v1 token file and teaches the sandbox its tokens.
func (s *sandbox) readStoreFile(path string) map[string]storedEntry {
	s.t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		s.t.Fatalf("read token store: %v", err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		s.t.Fatalf("token store %s is not a JSON object: %v\n%s", path, err, b)
	}
	out := map[string]storedEntry{}
	for k, v := range raw {
		var e storedEntry
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		if err := dec.Decode(&e); err != nil {
			s.t.Fatalf("entry %q of %s: %v", k, path, err)
		}
		e.raw = v
		s.learn(e.Token.AccessToken, e.Token.RefreshToken)
		out[k] = e
	}
	return out
}

// readStore reads the default token file.
func (s *sandbox) readStore() map[string]storedEntry {
	s.t.Helper()
	return s.readStoreFile(s.storePath())
}

// storeBytes returns the default token file's bytes, or nil when it is absent.
func (s *sandbox) storeBytes() []byte {
	s.t.Helper()
	b, err := os.ReadFile(s.storePath())
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return b
}

// browserURLs returns the URLs the test browser was given, in order.
func (s *sandbox) browserURLs() []string {
	s.t.Helper()
	b, err := os.ReadFile(s.browserLog)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		s.t.Fatal(err)
	}
	return strings.Fields(string(b))
}

// login logs the sandbox in to srv with a device flow approved at the first
// poll and returns the stored entry.
func (s *sandbox) login(srv *pyauthserver.Server) storedEntry {
	s.t.Helper()
	srv.PlanDevice(pyauthserver.DevicePlan{})
	r := s.run("login", "--flow", "device", "--timeout", "20s", srv.URL())
	mustSucceed(s.t, r)
	e, ok := s.readStore()[storeKey(s.t, srv)]
	if !ok {
		s.t.Fatalf("no entry for %s after login", storeKey(s.t, srv))
	}
	return e
}

// usedPorts keeps freePorts from handing out a port twice.
var usedPorts sync.Map

// freePorts returns n distinct ports that were free on 127.0.0.1.
func freePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	for len(ports) < n {
		l, err := net.Listen("tcp4", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		p := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if _, dup := usedPorts.LoadOrStore(p, true); !dup {
			ports = append(ports, p)
		}
	}
	return ports
}

// portArgs turns ports into repeated --port flags.
func portArgs(ports []int) []string {
	var args []string
	for _, p := range ports {
		args = append(args, "--port", strconv.Itoa(p))
	}
	return args
}

// closedPort returns a port on 127.0.0.1 that nothing listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	return freePorts(t, 1)[0]
}

// checkQuick fails the test when r took longer than bound. Other work on
// the machine slows every process start, and under Wine one start in a
// while takes seconds, so a run over bound is run twice more: the fastest
// of the three, less the time a trivial run (--version) takes right now,
// must be under bound. A command that really waits waits every time.
func checkQuick(t *testing.T, s *sandbox, r result, bound time.Duration) {
	t.Helper()
	if r.elapsed <= bound {
		return
	}
	times := []time.Duration{r.elapsed}
	fastest := r.elapsed
	for range 2 {
		again, err := r.again()
		if err != nil {
			t.Fatal(err)
		}
		times = append(times, again.elapsed)
		fastest = min(fastest, again.elapsed)
	}
	base := s.run("--version").elapsed
	if fastest-base > bound {
		t.Errorf("%s took %v in three runs (a trivial run takes %v now), want under %v", strings.Join(r.args, " "), times, base, bound)
	}
}

// unixModes reports whether file modes carry Unix permission bits here,
// for the checks of a file's mode; where they do not (Windows), it logs
// that those checks are left out, and why.
func unixModes(t *testing.T) bool {
	t.Helper()
	if runtime.GOOS != "windows" {
		return true
	}
	t.Log("file modes not checked: Windows keeps no Unix permission bits (only the read-only attribute); access control lists protect files there")
	return false
}

// unixNumber parses a JSON number that must be whole Unix seconds.
func unixNumber(t *testing.T, name string, n json.Number) int64 {
	t.Helper()
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("%s = %q, want integer Unix seconds", name, n)
	}
	return v
}
