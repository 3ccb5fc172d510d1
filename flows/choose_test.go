package flows

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// fakeEnv is an Environment of the given variables, programs on PATH,
// files and operating system.
func fakeEnv(goos string, vars map[string]string, programs []string, files map[string]string) Environment {
	return Environment{
		Getenv: func(name string) string { return vars[name] },
		LookPath: func(file string) (string, error) {
			for _, p := range programs {
				if p == file {
					return "/usr/bin/" + file, nil
				}
			}
			return "", errors.New("not found")
		},
		GOOS: goos,
		FileExists: func(path string) bool {
			_, ok := files[path]
			return ok
		},
		ReadFile: func(path string) ([]byte, error) {
			if b, ok := files[path]; ok {
				return []byte(b), nil
			}
			return nil, os.ErrNotExist
		},
	}
}

func TestChooseFlow(t *testing.T) {
	t.Parallel()
	linuxVersion := map[string]string{"/proc/version": "Linux version 6.8.0-45-generic (buildd@lcy02-amd64-075)"}
	wslVersion := map[string]string{"/proc/version": "Linux version 5.15.153.1-microsoft-standard-WSL2"}
	docker := map[string]string{"/.dockerenv": ""}
	podman := map[string]string{"/run/.containerenv": ""}
	ssh := "203.0.113.7 50022 192.0.2.10 22"
	tests := []struct {
		name     string
		goos     string
		vars     map[string]string
		programs []string
		files    map[string]string
		terminal bool
		want     Flow
		why      string // part of the reason
	}{
		{"macOS", "darwin", nil, nil, nil, true, FlowCode, "macOS"},
		{"Windows", "windows", nil, nil, nil, true, FlowCode, "Windows"},
		{"Linux with X11", "linux", map[string]string{"DISPLAY": ":0"}, []string{"xdg-open"}, linuxVersion, true, FlowCode, "display"},
		{"Linux with Wayland", "linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, []string{"xdg-open"}, linuxVersion, true, FlowCode, "display"},
		{"FreeBSD with X11", "freebsd", map[string]string{"DISPLAY": ":0"}, []string{"xdg-open"}, nil, true, FlowCode, "display"},
		{"Linux with a display but no xdg-open", "linux", map[string]string{"DISPLAY": ":0"}, nil, linuxVersion, true, FlowDevice, "xdg-open"},
		{"WSL with wslview", "linux", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, []string{"wslview"}, wslVersion, true, FlowCode, "wslview"},
		{"WSL found by /proc/version", "linux", nil, []string{"wslview"}, wslVersion, true, FlowCode, "wslview"},
		{"WSL without wslview", "linux", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, nil, wslVersion, true, FlowDevice, "no display"},
		{"$BROWSER set", "linux", map[string]string{"BROWSER": "w3m"}, nil, linuxVersion, true, FlowCode, "$BROWSER"},
		{"$BROWSER set over SSH", "linux", map[string]string{"BROWSER": "/vscode/bin/helpers/browser.sh", "SSH_CONNECTION": ssh}, nil, linuxVersion, true, FlowCode, "$BROWSER"},
		{"$BROWSER set in a container", "linux", map[string]string{"BROWSER": "browser.sh"}, nil, docker, true, FlowCode, "$BROWSER"},
		{"SSH without a display", "linux", map[string]string{"SSH_CONNECTION": ssh}, []string{"xdg-open"}, linuxVersion, true, FlowDevice, "SSH"},
		{"SSH into a Mac", "darwin", map[string]string{"SSH_CONNECTION": ssh}, nil, nil, true, FlowDevice, "SSH"},
		{"SSH with X forwarding", "linux", map[string]string{"SSH_CONNECTION": ssh, "DISPLAY": "localhost:10.0"}, []string{"xdg-open"}, linuxVersion, true, FlowCode, "display"},
		{"SSH_TTY only", "linux", map[string]string{"SSH_TTY": "/dev/pts/3"}, []string{"xdg-open"}, linuxVersion, true, FlowDevice, "SSH"},
		{"docker container", "linux", nil, []string{"xdg-open"}, docker, true, FlowDevice, "container"},
		{"podman container", "linux", nil, []string{"xdg-open"}, podman, true, FlowDevice, "container"},
		{"Kubernetes pod", "linux", map[string]string{"KUBERNETES_SERVICE_HOST": "10.0.0.1"}, []string{"xdg-open"}, linuxVersion, true, FlowDevice, "container"},
		{"headless Linux", "linux", nil, []string{"xdg-open"}, linuxVersion, true, FlowDevice, "no display"},
		{"desktop, but the output is no terminal", "darwin", map[string]string{"BROWSER": "firefox"}, nil, nil, false, FlowDevice, "not a terminal"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, why := ChooseFlow(fakeEnv(tt.goos, tt.vars, tt.programs, tt.files), tt.terminal)
			if got != tt.want || !strings.Contains(why, tt.why) {
				t.Errorf("ChooseFlow = %s (%s), want %s (…%s…)", got, why, tt.want, tt.why)
			}
		})
	}
}
