package flows

import (
	"bytes"
	"os"
	"os/exec"
	"runtime"
	"strings"
)

// Environment is what the automatic flow choice and the login screens
// look at: environment variables, programs on PATH, the operating system
// and a few files. Each zero field means the process's own (os.Getenv,
// exec.LookPath, runtime.GOOS, os.Stat, os.ReadFile), so the zero value
// is the real environment; tests fill in fakes.
type Environment struct {
	// Getenv returns an environment variable; "" means unset.
	Getenv func(name string) string
	// LookPath finds a program on PATH.
	LookPath func(file string) (string, error)
	// GOOS is the operating system, as runtime.GOOS names it.
	GOOS string
	// FileExists reports whether a file exists.
	FileExists func(path string) bool
	// ReadFile reads a small system file (/proc/version).
	ReadFile func(path string) ([]byte, error)
}

func (e Environment) getenv(name string) string {
	if e.Getenv != nil {
		return e.Getenv(name)
	}
	return os.Getenv(name)
}

func (e Environment) lookPath(file string) bool {
	lp := e.LookPath
	if lp == nil {
		lp = exec.LookPath
	}
	_, err := lp(file)
	return err == nil
}

func (e Environment) goos() string {
	if e.GOOS != "" {
		return e.GOOS
	}
	return runtime.GOOS
}

func (e Environment) fileExists(path string) bool {
	if e.FileExists != nil {
		return e.FileExists(path)
	}
	_, err := os.Stat(path)
	return err == nil
}

func (e Environment) readFile(path string) []byte {
	rf := e.ReadFile
	if rf == nil {
		rf = os.ReadFile
	}
	b, _ := rf(path)
	return b
}

// display reports whether a graphical display is set: DISPLAY (X11) or
// WAYLAND_DISPLAY.
func (e Environment) display() bool {
	return e.getenv("DISPLAY") != "" || e.getenv("WAYLAND_DISPLAY") != ""
}

// ssh reports whether the process runs in an SSH session.
func (e Environment) ssh() bool {
	return e.getenv("SSH_CONNECTION") != "" || e.getenv("SSH_CLIENT") != "" || e.getenv("SSH_TTY") != ""
}

// container reports whether the process runs in a container: docker's
// and podman's marker files, or a Kubernetes pod.
func (e Environment) container() bool {
	return e.fileExists("/.dockerenv") || e.fileExists("/run/.containerenv") || e.getenv("KUBERNETES_SERVICE_HOST") != ""
}

// wsl reports whether the process runs in the Windows Subsystem for
// Linux.
func (e Environment) wsl() bool {
	if e.goos() != "linux" {
		return false
	}
	return e.getenv("WSL_DISTRO_NAME") != "" || bytes.Contains(bytes.ToLower(e.readFile("/proc/version")), []byte("microsoft"))
}

// DesktopBrowser reports whether a browser can open on this machine's
// screen, and why (or why not): $BROWSER names one; macOS and Windows
// have one, unless the session is SSH; WSL has one through wslview; Linux
// and the BSDs need a display (DISPLAY or WAYLAND_DISPLAY) and xdg-open.
// An SSH session or a container without a display has none.
func (e Environment) DesktopBrowser() (bool, string) {
	switch goos := e.goos(); {
	case strings.TrimSpace(e.getenv("BROWSER")) != "":
		return true, "$BROWSER names a browser"
	case e.ssh() && !e.display():
		return false, "this is an SSH session without a display"
	case e.container() && !e.display():
		return false, "this is a container without a display"
	case goos == "darwin":
		return true, "this is a macOS desktop"
	case goos == "windows":
		return true, "this is a Windows desktop"
	case e.wsl() && e.lookPath("wslview"):
		return true, "this is WSL with wslview"
	case !e.display():
		return false, "there is no display (DISPLAY and WAYLAND_DISPLAY are unset)"
	case !e.lookPath("xdg-open"):
		return false, "there is a display but no xdg-open to start a browser with"
	}
	return true, "this is a desktop session with a display"
}

// ChooseFlow picks the flow FlowAuto runs first, and says why. The code
// flow needs a person at a browser on this machine, since its callback
// reaches this machine's loopback interface; the device flow works from
// any device. So the code flow is chosen when the login's screen is a
// terminal (someone is watching here) and a desktop browser can open (see
// DesktopBrowser); everything else gets the device flow, which the code
// flow backs up when the server offers no device flow.
func ChooseFlow(env Environment, terminal bool) (Flow, string) {
	if !terminal {
		return FlowDevice, "the login's output is not a terminal, so nobody may be at a browser on this machine"
	}
	ok, why := env.DesktopBrowser()
	if ok {
		return FlowCode, why
	}
	return FlowDevice, why
}
