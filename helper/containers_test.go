package helper_test

import (
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"github.com/oidc-auth/oidc-auth/helper"
)

// systemRegistriesConf is a registries.conf as distributions ship it:
// comments, search registries, [[registry]] tables with mirrors.
const systemRegistriesConf = `# For more information on this configuration file, see containers-registries.conf(5).
#
# unqualified-search-registries = ["example.com"]
unqualified-search-registries = ["docker.io", "quay.io"]

[[registry]]
prefix = "docker.io"
location = "docker.io"

[[registry.mirror]]
location = "mirror.example.org"
insecure = false

[aliases]
  "fedora" = "registry.fedoraproject.org/fedora"
`

// userRegistriesConf is a person's own registries.conf.
const userRegistriesConf = `# mine
unqualified-search-registries = ["registry.example.org"]
credential-helpers = [ "pass",   # my keyring
  "containers-auth.json" ]

[[registry]]
location = "registry.example.org:5000"
insecure = true
`

// containersWorld is a home directory and a system directory for
// containers/image's files.
type containersWorld struct {
	conf   helper.ContainersConf
	files  map[string]string // path → content written before the test
	dropIn string
}

// newContainersWorld writes files (paths relative to a fresh directory,
// "home/..." and "etc/...") and returns the world; the system directory is
// etc/containers.
func newContainersWorld(t *testing.T, files map[string]string) *containersWorld {
	t.Helper()
	root := t.TempDir()
	w := &containersWorld{
		conf:  helper.ContainersConf{Home: filepath.Join(root, "home"), SystemDir: filepath.Join(root, "etc", "containers")},
		files: map[string]string{},
	}
	for rel, content := range files {
		path := filepath.Join(root, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		w.files[path] = content
	}
	if err := os.MkdirAll(w.conf.Home, 0o700); err != nil {
		t.Fatal(err)
	}
	w.dropIn = w.conf.DropInPath()
	return w
}

// untouched fails the test when a file written before changed.
func (w *containersWorld) untouched(t *testing.T) {
	t.Helper()
	for path, content := range w.files {
		if path == w.dropIn {
			continue
		}
		if got := string(readFile(t, path)); got != content {
			t.Errorf("%s changed:\n%s\nwant\n%s", path, got, content)
		}
	}
}

// dropInList decodes the drop-in's credential-helpers as the tools do;
// nil when there is no drop-in.
func (w *containersWorld) dropInList(t *testing.T) []string {
	t.Helper()
	b := readFile(t, w.dropIn)
	if b == nil {
		return nil
	}
	var conf struct {
		CredentialHelpers []string `toml:"credential-helpers"`
	}
	dec := toml.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&conf); err != nil {
		t.Fatalf("drop-in %s: %v\n%s", w.dropIn, err, b)
	}
	return conf.CredentialHelpers
}

func TestContainersSetHelper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		files    map[string]string
		override string // relative to the world's root
		want     []string
	}{
		{
			name: "nothing configured",
			want: []string{"oidc", "containers-auth.json"},
		},
		{
			name:  "system file without credential helpers",
			files: map[string]string{"etc/containers/registries.conf": systemRegistriesConf},
			want:  []string{"oidc", "containers-auth.json"},
		},
		{
			name:  "system file with credential helpers",
			files: map[string]string{"etc/containers/registries.conf": "credential-helpers = [\"secretservice\"]\n"},
			want:  []string{"oidc", "secretservice"},
		},
		{
			name: "system drop-in after the system file",
			files: map[string]string{
				"etc/containers/registries.conf":                 "credential-helpers = [\"pass\"]\n",
				"etc/containers/registries.conf.d/50-keys.conf":  "credential-helpers = [\"secretservice\", \"containers-auth.json\"]\n",
				"etc/containers/registries.conf.d/shortnames.cf": "credential-helpers = [\"ignored: not .conf\"]\n",
			},
			want: []string{"oidc", "secretservice", "containers-auth.json"},
		},
		{
			name: "user file hides the system's",
			files: map[string]string{
				"etc/containers/registries.conf":                "credential-helpers = [\"secretservice\"]\n",
				"etc/containers/registries.conf.d/50-keys.conf": "credential-helpers = [\"ecr-login\"]\n",
				"home/.config/containers/registries.conf":       userRegistriesConf,
			},
			want: []string{"oidc", "pass", "containers-auth.json"},
		},
		{
			name: "CONTAINERS_REGISTRIES_CONF",
			files: map[string]string{
				"home/.config/containers/registries.conf": userRegistriesConf,
				"elsewhere/registries.conf":               "credential-helpers = [\"ecr-login\"]\n",
			},
			override: "elsewhere/registries.conf",
			want:     []string{"oidc", "ecr-login"},
		},
		{
			name: "CONTAINERS_REGISTRIES_CONF with system drop-ins",
			files: map[string]string{
				"etc/containers/registries.conf.d/50-keys.conf": "credential-helpers = [\"secretservice\"]\n",
				"elsewhere/registries.conf":                     "credential-helpers = [\"ecr-login\"]\n",
			},
			override: "elsewhere/registries.conf",
			want:     []string{"oidc", "secretservice"},
		},
		{
			name:  "oidc already listed",
			files: map[string]string{"home/.config/containers/registries.conf": "credential-helpers = [\"containers-auth.json\", \"oidc\"]\n"},
			want:  []string{"oidc", "containers-auth.json"},
		},
		{
			name: "earlier user drop-in",
			files: map[string]string{
				"home/.config/containers/registries.conf.d/10-mine.conf": "credential-helpers = [\"pass\"]\n",
			},
			want: []string{"oidc", "pass"},
		},
		{
			name: "later user drop-in that asks oidc first",
			files: map[string]string{
				"home/.config/containers/registries.conf.d/zz-mine.conf": "credential-helpers = [\"oidc\", \"pass\"]\n",
			},
			want: []string{"oidc", "pass"}, // the list the tools use: zz-mine.conf's
		},
		{
			name:  "v1 format",
			files: map[string]string{"etc/containers/registries.conf": "[registries.search]\nregistries = ['docker.io']\n\n[registries.insecure]\nregistries = []\n"},
			want:  []string{"oidc", "containers-auth.json"},
		},
		{
			name: "a drop-in of ours from an earlier setup",
			files: map[string]string{
				"home/.config/containers/registries.conf.d/99-oidc-auth.conf": "# Written by oidc-auth setup docker --creds-store.\ncredential-helpers = [\"oidc\", \"pass\"]\n",
			},
			want: []string{"oidc", "containers-auth.json"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newContainersWorld(t, tt.files)
			if tt.override != "" {
				w.conf.Override = filepath.Join(filepath.Dir(w.conf.Home), filepath.FromSlash(tt.override))
			}
			userMain := filepath.Join(w.conf.Home, ".config", "containers", "registries.conf")
			_, hadUserMain := w.files[userMain]

			changed, err := w.conf.SetHelper(false)
			if err != nil || !changed {
				t.Fatalf("SetHelper = %v, %v; want a change", changed, err)
			}
			if got := w.dropInList(t); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("drop-in credential-helpers = %q, want %q", got, tt.want)
			}
			if b := string(readFile(t, w.dropIn)); !strings.HasPrefix(b, "# Written by oidc-auth setup docker --creds-store.\n") {
				t.Errorf("drop-in does not start with its mark:\n%s", b)
			}
			if fi, err := os.Stat(userMain); !hadUserMain && err == nil {
				t.Errorf("SetHelper created %s (mode %v), which hides the system's registries.conf", userMain, fi.Mode())
			}
			w.untouched(t)
			onlyFiles(t, filepath.Dir(w.dropIn), dropInDirNames(t, w)...)

			if changed, err := w.conf.SetHelper(false); err != nil || changed {
				t.Errorf("SetHelper again = %v, %v; want no change", changed, err)
			}
			if changed, err := w.conf.SetHelper(true); err != nil || !changed {
				t.Errorf("SetHelper(unset) = %v, %v; want a change", changed, err)
			}
			if b := readFile(t, w.dropIn); b != nil {
				t.Errorf("drop-in after unset:\n%s", b)
			}
			if changed, err := w.conf.SetHelper(true); err != nil || changed {
				t.Errorf("SetHelper(unset) again = %v, %v; want no change", changed, err)
			}
			w.untouched(t)
		})
	}
}

// dropInDirNames are the names the per-user drop-in directory must hold
// after a setup: the files written before and the drop-in.
func dropInDirNames(t *testing.T, w *containersWorld) []string {
	t.Helper()
	dir := filepath.Dir(w.dropIn)
	names := []string{filepath.Base(w.dropIn)}
	for path := range w.files {
		if filepath.Dir(path) == dir && path != w.dropIn {
			names = append(names, filepath.Base(path))
		}
	}
	slices.Sort(names) // as os.ReadDir sorts
	return names
}

func TestContainersSetHelperRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		files map[string]string
		// want is in the error message.
		want string
		// unsetKeeps: --unset leaves the drop-in path alone too.
		unsetKeeps bool
	}{
		{
			name:  "a later drop-in would win",
			files: map[string]string{"home/.config/containers/registries.conf.d/zz-mine.conf": "credential-helpers = [\"pass\"]\n"},
			want:  "zz-mine.conf sets credential-helpers after",
		},
		{
			name:       "a file of someone else's by our name",
			files:      map[string]string{"home/.config/containers/registries.conf.d/99-oidc-auth.conf": "credential-helpers = [\"pass\"]\n"},
			want:       "was not written by oidc-auth",
			unsetKeeps: true,
		},
		{
			name:  "broken system file",
			files: map[string]string{"etc/containers/registries.conf": "unqualified-search-registries = [\"docker.io\"\n"},
			want:  "registries.conf is not a registries.conf",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := newContainersWorld(t, tt.files)
			before := readFile(t, w.dropIn)
			changed, err := w.conf.SetHelper(false)
			if err == nil || changed || !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "helper: ") {
				t.Errorf("SetHelper = %v, %v; want an error containing %q", changed, err, tt.want)
			}
			if got := readFile(t, w.dropIn); string(got) != string(before) {
				t.Errorf("drop-in written:\n%s", got)
			}
			w.untouched(t)
			if tt.unsetKeeps {
				if changed, err := w.conf.SetHelper(true); err != nil || changed {
					t.Errorf("SetHelper(unset) = %v, %v; want no change", changed, err)
				}
				w.untouched(t)
			}
		})
	}
}

// TestDefaultContainersConf changes the environment: no t.Parallel. The
// home is containers/storage's homedir.Get: $HOME on Unix, %USERPROFILE%
// on Windows, where HOME is not read.
func TestDefaultContainersConf(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	if runtime.GOOS == "windows" {
		t.Setenv("HOME", filepath.Join(home, "not-the-home"))
	}
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(home, "xdg")) // not read by containers/image
	t.Setenv("CONTAINERS_REGISTRIES_CONF", "/srv/registries.conf")
	c, err := helper.DefaultContainersConf()
	if err != nil {
		t.Fatal(err)
	}
	t.Setenv("REGISTRIES_CONFIG_PATH", "/srv/old.conf")
	want := helper.ContainersConf{Home: home, Override: "/srv/registries.conf", SystemDir: "/etc/containers"}
	if c != want {
		t.Errorf("DefaultContainersConf() = %+v, want %+v", c, want)
	}
	// Set and empty: the default files, as for skopeo.
	t.Setenv("CONTAINERS_REGISTRIES_CONF", "")
	if c, err := helper.DefaultContainersConf(); err != nil || c.Override != "" {
		t.Errorf("DefaultContainersConf() with an empty CONTAINERS_REGISTRIES_CONF = %+v, %v; want no override", c, err)
	}
	os.Unsetenv("CONTAINERS_REGISTRIES_CONF") // restored by t.Setenv's cleanup
	if c, err := helper.DefaultContainersConf(); err != nil || c.Override != "/srv/old.conf" {
		t.Errorf("DefaultContainersConf() with REGISTRIES_CONFIG_PATH = %+v, %v; want it as the override", c, err)
	}
	if got, want := c.DropInPath(), filepath.Join(home, ".config", "containers", "registries.conf.d", "99-oidc-auth.conf"); got != want {
		t.Errorf("DropInPath() = %q, want %q", got, want)
	}
}
