package flows

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// fakeBrowserArg, as the first argument of the test binary, makes it a
// browser for TestOpenBrowserCommands: "starts" exits 0, "fails" exits 3
// at once, "records FILE" writes its last argument (the URL) to FILE.
const fakeBrowserArg = "oidc-auth-fake-browser"

func TestMain(m *testing.M) {
	if len(os.Args) > 2 && os.Args[1] == fakeBrowserArg {
		os.Exit(fakeBrowser(os.Args[2:]))
	}
	os.Exit(m.Run())
}

// fakeBrowser is the test binary run as a browser.
func fakeBrowser(args []string) int {
	switch args[0] {
	case "starts":
		return 0
	case "records":
		if len(args) < 3 || os.WriteFile(args[1], []byte(args[len(args)-1]), 0o600) != nil {
			return 2
		}
		return 0
	}
	return 3
}

// fakeBrowserCommand returns a $BROWSER command that runs a copy of the
// test binary as a browser in mode; the copy sits in dir, whose path has
// no spaces on the systems the tests run on.
func fakeBrowserCommand(t *testing.T, dir, mode string) string {
	t.Helper()
	exe := filepath.Join(dir, "fake-browser")
	if runtime.GOOS == "windows" {
		exe += ".exe"
	}
	if _, err := os.Stat(exe); err != nil {
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		copyFile(t, self, exe)
	}
	if strings.ContainsAny(exe, " \t") {
		t.Fatalf("the fake browser's path %q has a space, which $BROWSER cannot hold", exe)
	}
	return exe + " " + fakeBrowserArg + " " + mode
}

// tryOpenBrowser runs openBrowser, and runs it again, up to three times
// in all, when Wine fails the browser's start with its spurious "Internal
// error": what the tests check is how openBrowser reads a browser's
// result, which Wine's start failure is not.
func tryOpenBrowser(env Environment, url string) error {
	for try := 1; ; try++ {
		err := openBrowser(env, url, nil)
		if err == nil || try == 3 || !testfs.SpuriousStartError(err) {
			return err
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	in, err := os.Open(from)
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o700)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestOpenBrowserCommands starts real commands as the browser: one that
// starts, one that fails at once, missing ones, and a list of them. Unix
// has true and false for the first two; elsewhere the test binary plays
// them.
func TestOpenBrowserCommands(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	starts, fails := "true", "false"
	if runtime.GOOS == "windows" {
		starts, fails = fakeBrowserCommand(t, dir, "starts"), fakeBrowserCommand(t, dir, "fails")
	}
	missing := filepath.Join(dir, "no-such-browser")
	list := strings.Join([]string{missing, fails, starts}, string(filepath.ListSeparator))
	for _, tt := range []struct {
		name    string
		browser string
		wantErr string
	}{
		{"a browser that starts", starts, ""},
		{"a browser that fails at once", fails, "failed"},
		{"a browser that does not exist", missing, fmt.Sprintf("cannot start the browser %q: ", missing)},
		{"a browser not on PATH", "no-such-browser-on-path", "cannot start the browser \"no-such-browser-on-path\": executable file not found"},
		{"the first that works of a list", list, ""},
		{"a list of none that work", strings.Join([]string{missing, fails}, string(filepath.ListSeparator)), fmt.Sprintf("cannot start the browser %q: ", missing)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := fakeEnv(runtime.GOOS, map[string]string{"BROWSER": tt.browser}, nil, nil)
			err := tryOpenBrowser(env, "http://localhost:1/x")
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("openBrowser with BROWSER=%q: %v, want %q", tt.browser, err, tt.wantErr)
			}
			if err != nil && (strings.Contains(err.Error(), "fork/exec") || strings.Contains(err.Error(), "exec: ")) {
				t.Errorf("the error names the command twice: %v", err)
			}
		})
	}
}

// hostileURL holds what shells and cmd.exe would act on: & and | end a
// command, ^ escapes, % and $ expand variables, quotes and spaces split.
const hostileURL = `https://idp.example.org/auth?a=1&b=2|echo^x&c=%PATH%&d=$HOME&e="q" r&f=%s`

// TestOpenBrowserPassesTheURLIntact runs a real browser command and
// checks that it receives the URL as one argument, byte for byte, both as
// the last argument and in place of "%s".
func TestOpenBrowserPassesTheURLIntact(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, tt := range []struct{ name, suffix string }{
		{"last argument", ""},
		{"in place of the placeholder", " %s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(t.TempDir(), "url")
			env := fakeEnv(runtime.GOOS, map[string]string{"BROWSER": fakeBrowserCommand(t, dir, "records") + " " + out + tt.suffix}, nil, nil)
			if err := tryOpenBrowser(env, hostileURL); err != nil {
				t.Fatal(err)
			}
			got, err := os.ReadFile(out)
			if err != nil || string(got) != hostileURL {
				t.Errorf("the browser got %q, %v; want %q", got, err, hostileURL)
			}
		})
	}
}

// TestBrowserCommandsOfThePlatforms checks each platform's opener: the URL
// is one argument, unchanged, and no shell or cmd.exe stands between.
func TestBrowserCommandsOfThePlatforms(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, goos string
		vars       map[string]string
		files      map[string]string
		want       [][]string
	}{
		{"windows", "windows", nil, nil, [][]string{{"rundll32", "url.dll,FileProtocolHandler", hostileURL}}},
		{"macOS", "darwin", nil, nil, [][]string{{"open", hostileURL}}},
		{"linux", "linux", nil, nil, [][]string{{"xdg-open", hostileURL}}},
		{"WSL", "linux", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, nil, [][]string{{"wslview", hostileURL}, {"xdg-open", hostileURL}}},
		{"$BROWSER on windows", "windows", map[string]string{"BROWSER": "firefox.exe -new-tab" + string(filepath.ListSeparator) + "msedge.exe --url=%s"}, nil, [][]string{{"firefox.exe", "-new-tab", hostileURL}, {"msedge.exe", "--url=" + hostileURL}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := browserCommands(fakeEnv(tt.goos, tt.vars, nil, tt.files), hostileURL)
			if fmt.Sprint(got) != fmt.Sprint(tt.want) || len(got) != len(tt.want) {
				t.Errorf("commands %q, want %q", got, tt.want)
			}
		})
	}
}
