package helper_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

const existingConfig = `# oidc-auth: servers of the team
[[server]]
# git, all of it
match = "https://git.example.org/"   # trailing comment
host = "https://auth.example.org"
username = "ci-bot"
`

// onlyFiles fails the test when dir holds anything but names: no
// temporary files are left behind.
func onlyFiles(t *testing.T, dir string, names ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if !reflect.DeepEqual(got, names) {
		t.Errorf("%s holds %q, want %q", dir, got, names)
	}
}

// writeOld writes content to path with a modification time in the past, so
// that an untouched file can be told from a rewritten one.
func writeOld(t *testing.T, path, content string) time.Time {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	old := time.Now().Add(-time.Hour).Truncate(time.Second)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	return old
}

// untouched fails the test when path's content or time changed.
func untouched(t *testing.T, path, content string, mtime time.Time) {
	t.Helper()
	if got := string(readFile(t, path)); got != content {
		t.Errorf("%s changed:\n%s\nwant\n%s", path, got, content)
	}
	if fi, err := os.Stat(path); err != nil || !fi.ModTime().Equal(mtime) {
		t.Errorf("%s was rewritten (%v)", path, err)
	}
}

func TestAddServerAppends(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, old, prefix string
	}{
		{"with final newline", existingConfig, existingConfig + "\n"},
		{"without final newline", strings.TrimSuffix(existingConfig, "\n"), existingConfig + "\n"},
		{"empty file", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			writeOld(t, path, tt.old)
			add := helper.Server{Match: "registry.example.org", Host: "https://auth.example.org/api", RedirectPorts: []int{9000}}
			if err := helper.AddServer(path, add); err != nil {
				t.Fatalf("AddServer: %v", err)
			}
			got := string(readFile(t, path))
			if !strings.HasPrefix(got, tt.prefix) {
				t.Fatalf("the file does not keep its old bytes:\n%s", got)
			}
			entry, err := helper.ParseConfig("entry", []byte(got[len(tt.prefix):]))
			if err != nil || len(entry.Servers) != 1 {
				t.Fatalf("the appended text %q: %+v, %v", got[len(tt.prefix):], entry, err)
			}
			if s := entry.Servers[0]; s.Match != add.Match || s.Host != add.Host || !reflect.DeepEqual(s.RedirectPorts, add.RedirectPorts) {
				t.Errorf("appended entry %+v, want %+v", s, add)
			}
			cfg, err := helper.LoadConfig(path)
			if err != nil {
				t.Fatal(err)
			}
			if want := strings.Count(tt.old, "[[server]]") + 1; len(cfg.Servers) != want {
				t.Errorf("%d servers, want %d", len(cfg.Servers), want)
			}
			onlyFiles(t, dir, "config.toml")
		})
	}
}

func TestAddServerNewFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "oidc-auth", "config.toml")
	if err := helper.AddServer(path, helper.Server{Match: "https://git.example.org/team", Host: "https://auth.example.org", Username: "bot"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := helper.LoadConfig(path)
	if err != nil || len(cfg.Servers) != 1 {
		t.Fatalf("LoadConfig = %+v, %v", cfg, err)
	}
	if s := cfg.Servers[0]; s.Match != "https://git.example.org/team" || s.Host != "https://auth.example.org" || s.Username != "bot" {
		t.Errorf("entry %+v", s)
	}
	onlyFiles(t, filepath.Join(dir, "oidc-auth"), "config.toml")
}

func TestAddServerReplaces(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.toml")
	writeOld(t, path, existingConfig+"\n[[server]]\nmatch = \"https://git.example.org/team\"\nhost = \"https://old.example.org\"\n")
	// The same match, spelled differently.
	if err := helper.AddServer(path, helper.Server{Match: "https://GIT.example.org:443/team/", Host: "https://new.example.org"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := helper.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Servers) != 2 {
		t.Fatalf("%d servers, want 2: %+v", len(cfg.Servers), cfg.Servers)
	}
	if s := cfg.Servers[0]; s.Match != "https://git.example.org/" || s.Host != "https://auth.example.org" || s.Username != "ci-bot" {
		t.Errorf("other entry changed: %+v", s)
	}
	if s := cfg.Servers[1]; s.Host != "https://new.example.org" || s.Match != "https://GIT.example.org:443/team/" {
		t.Errorf("replaced entry %+v", s)
	}
	if strings.Contains(string(readFile(t, path)), "old.example.org") {
		t.Error("the old entry is still in the file")
	}
	onlyFiles(t, dir, "config.toml")
}

func TestAddServerRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		s    helper.Server
	}{
		{"no match", helper.Server{Host: "https://auth.example.org"}},
		{"no host", helper.Server{Match: "https://git.example.org/"}},
		{"host not a URL", helper.Server{Match: "https://git.example.org/", Host: "auth.example.org"}},
		{"plain http", helper.Server{Match: "http://git.example.org/", Host: "https://auth.example.org"}},
		{"bad port", helper.Server{Match: "https://git.example.org/", Host: "https://auth.example.org", RedirectPorts: []int{0}}},
		{"bad match", helper.Server{Match: "ssh://git.example.org/", Host: "https://auth.example.org"}},
		{"look-alike match", helper.Server{Match: "https://git.\u0435xample.org/", Host: "https://auth.example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "config.toml")
			mtime := writeOld(t, path, existingConfig)
			if err := helper.AddServer(path, tt.s); err == nil {
				t.Error("AddServer: nil error")
			}
			untouched(t, path, existingConfig, mtime)
			missing := filepath.Join(dir, "new", "config.toml")
			if err := helper.AddServer(missing, tt.s); err == nil {
				t.Error("AddServer to a new file: nil error")
			}
			if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
				t.Errorf("rejected entry created %s: %v", filepath.Dir(missing), err)
			}
			onlyFiles(t, dir, "config.toml")
		})
	}
	t.Run("broken file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		broken := existingConfig + "colour = 1\n"
		mtime := writeOld(t, path, broken)
		if err := helper.AddServer(path, helper.Server{Match: "registry.example.org", Host: "https://auth.example.org"}); err == nil || !strings.Contains(err.Error(), "colour") {
			t.Errorf("AddServer to a broken file: %v", err)
		}
		untouched(t, path, broken, mtime)
	})
}

func TestRemoveServer(t *testing.T) {
	t.Parallel()
	two := existingConfig + "\n[[server]]\nmatch = \"registry.example.org\"\nhost = \"https://auth.example.org\"\n"
	t.Run("absent", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		mtime := writeOld(t, path, two)
		for _, m := range []string{"https://git.example.org/team/", "registry.example.org:5000", "http://git.example.org/"} {
			found, err := helper.RemoveServer(path, m)
			if found || err != nil {
				t.Errorf("RemoveServer(%q) = %v, %v; want false, nil", m, found, err)
			}
		}
		untouched(t, path, two, mtime)
		onlyFiles(t, dir, "config.toml")
	})
	t.Run("missing file", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		found, err := helper.RemoveServer(filepath.Join(dir, "config.toml"), "registry.example.org")
		if found || err != nil {
			t.Errorf("RemoveServer = %v, %v; want false, nil", found, err)
		}
		onlyFiles(t, dir)
	})
	t.Run("present", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		writeOld(t, path, two)
		found, err := helper.RemoveServer(path, "Registry.Example.org")
		if !found || err != nil {
			t.Fatalf("RemoveServer = %v, %v; want true, nil", found, err)
		}
		cfg, err := helper.LoadConfig(path)
		if err != nil || len(cfg.Servers) != 1 {
			t.Fatalf("LoadConfig = %+v, %v", cfg, err)
		}
		if s := cfg.Servers[0]; s.Match != "https://git.example.org/" || s.Username != "ci-bot" {
			t.Errorf("kept entry %+v", s)
		}
		onlyFiles(t, dir, "config.toml")
	})
	t.Run("bad match", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		path := filepath.Join(dir, "config.toml")
		mtime := writeOld(t, path, two)
		if _, err := helper.RemoveServer(path, "ssh://git.example.org/"); err == nil {
			t.Error("RemoveServer of a bad match: nil error")
		}
		untouched(t, path, two, mtime)
	})
}

const dockerConfig = `{
  "auths": {"https://index.docker.io/v1/": {"auth": "dXNlcjpwdw=="}},
  "proxies": {"default": {"httpProxy": "http://proxy.example.org:3128", "noProxy": "*.local"}},
  "credHelpers": {"gcr.io": "gcloud", "old.example.org": "oidc"},
  "currentContext": "default",
  "experimental": "enabled"
}
`

// decodeJSON decodes a docker config.json.
func decodeJSON(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("config.json %q: %v", b, err)
	}
	return m
}

func TestSetDockerHelper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		old        string // "" for no file
		registry   string
		credsStore bool
		unset      bool
		change     func(m map[string]any) // what should differ from old
	}{
		{
			name: "add a credHelpers entry", old: dockerConfig, registry: "registry.example.org",
			change: func(m map[string]any) { m["credHelpers"].(map[string]any)["registry.example.org"] = "oidc" },
		},
		{
			name: "creds store", old: dockerConfig, registry: "registry.example.org", credsStore: true,
			change: func(m map[string]any) { m["credsStore"] = "oidc" },
		},
		{
			name: "creds store already ours", old: `{"credsStore": "oidc", "auths": {}}`, credsStore: true,
			change: func(map[string]any) {},
		},
		{
			name: "credHelpers entry beside another creds store", old: `{"credsStore": "desktop", "auths": {}}`, registry: "registry.example.org",
			change: func(m map[string]any) { m["credHelpers"] = map[string]any{"registry.example.org": "oidc"} },
		},
		{
			name: "unset ours", old: dockerConfig, registry: "old.example.org", unset: true,
			change: func(m map[string]any) { delete(m["credHelpers"].(map[string]any), "old.example.org") },
		},
		{
			name: "unset keeps another helper's entry", old: dockerConfig, registry: "gcr.io", unset: true,
			change: func(map[string]any) {},
		},
		{
			name: "unset of an absent entry", old: dockerConfig, registry: "registry.example.org", unset: true,
			change: func(map[string]any) {},
		},
		{
			name: "unset of the last entry drops credHelpers", old: `{"credHelpers": {"r.example.org": "oidc"}, "auths": {}}`, registry: "r.example.org", unset: true,
			change: func(m map[string]any) { delete(m, "credHelpers") },
		},
		{
			name: "unset creds store", old: `{"credsStore": "oidc", "credHelpers": {"gcr.io": "gcloud"}}`, credsStore: true, unset: true,
			change: func(m map[string]any) { delete(m, "credsStore") },
		},
		{
			name: "unset keeps another creds store", old: `{"credsStore": "desktop"}`, credsStore: true, unset: true,
			change: func(map[string]any) {},
		},
		{
			name: "unset creds store keeps credHelpers", old: `{"credsStore": "oidc", "credHelpers": {"r.example.org": "oidc"}}`, registry: "other.example.org", credsStore: true, unset: true,
			change: func(m map[string]any) { delete(m, "credsStore") },
		},
		{
			name: "new file", registry: "registry.example.org",
			change: func(m map[string]any) { m["credHelpers"] = map[string]any{"registry.example.org": "oidc"} },
		},
		{
			name: "null file", old: "null\n", registry: "registry.example.org",
			change: func(m map[string]any) { m["credHelpers"] = map[string]any{"registry.example.org": "oidc"} },
		},
		{
			name: "null credHelpers", old: `{"credHelpers": null, "auths": {}}`, registry: "registry.example.org",
			change: func(m map[string]any) { m["credHelpers"] = map[string]any{"registry.example.org": "oidc"} },
		},
		{
			name: "unset with null credHelpers", old: `{"credHelpers": null, "auths": {}}`, registry: "registry.example.org", unset: true,
			change: func(m map[string]any) { delete(m, "credHelpers") },
		},
		{
			name: "empty file", old: "\n", registry: "127.0.0.1:5000",
			change: func(m map[string]any) { m["credHelpers"] = map[string]any{"127.0.0.1:5000": "oidc"} },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "config.json")
			want := map[string]any{}
			if tt.old != "" {
				writeOld(t, path, tt.old)
				if strings.TrimSpace(tt.old) != "" {
					if m := decodeJSON(t, []byte(tt.old)); m != nil {
						want = m
					}
				}
			}
			tt.change(want)
			if err := helper.SetDockerHelper(dir, tt.registry, tt.credsStore, tt.unset); err != nil {
				t.Fatalf("SetDockerHelper: %v", err)
			}
			if got := decodeJSON(t, readFile(t, path)); !reflect.DeepEqual(got, want) {
				t.Errorf("config.json\n%v\nwant\n%v", got, want)
			}
			onlyFiles(t, dir, "config.json")
		})
	}
}

func TestSetDockerHelperNewFileBytes(t *testing.T) {
	t.Parallel()
	dir := filepath.Join(t.TempDir(), ".docker")
	if err := helper.SetDockerHelper(dir, "registry.example.org", false, false); err != nil {
		t.Fatal(err)
	}
	want := "{\n\t\"credHelpers\": {\n\t\t\"registry.example.org\": \"oidc\"\n\t}\n}\n"
	if got := string(readFile(t, filepath.Join(dir, "config.json"))); got != want {
		t.Errorf("config.json %q, want %q", got, want)
	}
	// Setting it again changes nothing.
	if err := helper.SetDockerHelper(dir, "registry.example.org", false, false); err != nil {
		t.Fatal(err)
	}
	if got := string(readFile(t, filepath.Join(dir, "config.json"))); got != want {
		t.Errorf("config.json after a second set %q, want %q", got, want)
	}
	onlyFiles(t, dir, "config.json")
}

func TestSetDockerHelperRejects(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, old string }{
		{"not JSON", "{\"auths\": {\n"},
		{"JSON array", "[1, 2]\n"},
		{"credHelpers not an object of strings", `{"credHelpers": {"gcr.io": 1}}`},
		{"credHelpers a string", `{"credHelpers": "oidc"}`},
	}
	for _, tt := range tests {
		for _, op := range []struct {
			name              string
			credsStore, unset bool
		}{{"set", false, false}, {"creds store", true, false}, {"unset", false, true}} {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				dir := t.TempDir()
				path := filepath.Join(dir, "config.json")
				mtime := writeOld(t, path, tt.old)
				if err := helper.SetDockerHelper(dir, "registry.example.org", op.credsStore, op.unset); err == nil {
					t.Error("SetDockerHelper: nil error")
				}
				untouched(t, path, tt.old, mtime)
				onlyFiles(t, dir, "config.json")
			})
		}
	}
}

// TestSetDockerHelperKeepsOtherCredsStore checks that --creds-store does
// not silently replace another helper's credsStore.
func TestSetDockerHelperKeepsOtherCredsStore(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	old := `{"credsStore": "desktop", "auths": {}}`
	mtime := writeOld(t, path, old)
	err := helper.SetDockerHelper(dir, "registry.example.org", true, false)
	if err == nil || !strings.Contains(err.Error(), `"desktop"`) {
		t.Errorf("SetDockerHelper: %v, want an error naming the other credsStore", err)
	}
	untouched(t, path, old, mtime)
	onlyFiles(t, dir, "config.json")
}

// TestDockerConfigDir changes the environment: no t.Parallel. Docker finds
// the home directory as os.UserHomeDir does: $HOME on Unix, %USERPROFILE%
// on Windows, where HOME (as Git for Windows' shells set it) is not read.
func TestDockerConfigDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("USERPROFILE", home)
	if runtime.GOOS == "windows" {
		t.Setenv("HOME", filepath.Join(home, "not-the-home"))
	}
	t.Setenv("DOCKER_CONFIG", "/etc/docker-cfg")
	if got, err := helper.DockerConfigDir(); err != nil || got != "/etc/docker-cfg" {
		t.Errorf("DockerConfigDir() = %q, %v; want $DOCKER_CONFIG", got, err)
	}
	t.Setenv("DOCKER_CONFIG", "")
	if got, err := helper.DockerConfigDir(); err != nil || got != filepath.Join(home, ".docker") {
		t.Errorf("DockerConfigDir() = %q, %v; want ~/.docker", got, err)
	}
}

// TestSetupThroughSymlink checks that config files that are links (as
// dotfile managers make) are written through, the link kept.
func TestSetupThroughSymlink(t *testing.T) {
	t.Parallel()
	testfs.RequireSymlinks(t)
	dir := t.TempDir()
	real := filepath.Join(dir, "dotfiles")
	if err := os.Mkdir(real, 0o700); err != nil {
		t.Fatal(err)
	}
	docker := filepath.Join(dir, "docker")
	if err := os.Mkdir(docker, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "config.json"), []byte(`{"auths": {}}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(real, "config.toml"), []byte(existingConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(real, "config.json"), filepath.Join(docker, "config.json")); err != nil {
		t.Skipf("no symlinks here: %v", err)
	}
	if err := os.Symlink(filepath.Join(real, "config.toml"), filepath.Join(dir, "config.toml")); err != nil {
		t.Fatal(err)
	}
	if err := helper.SetDockerHelper(docker, "registry.example.org", false, false); err != nil {
		t.Fatal(err)
	}
	if err := helper.AddServer(filepath.Join(dir, "config.toml"), helper.Server{Match: "registry.example.org", Host: "https://auth.example.org"}); err != nil {
		t.Fatal(err)
	}
	for _, link := range []string{filepath.Join(docker, "config.json"), filepath.Join(dir, "config.toml")} {
		if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
			t.Errorf("%s is no longer a link: %v", link, err)
		}
	}
	got := decodeJSON(t, readFile(t, filepath.Join(real, "config.json")))
	if want := map[string]any{"auths": map[string]any{}, "credHelpers": map[string]any{"registry.example.org": "oidc"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("linked config.json %v, want %v", got, want)
	}
	if b := string(readFile(t, filepath.Join(real, "config.toml"))); !strings.HasPrefix(b, existingConfig+"\n") || !strings.Contains(b, "registry.example.org") {
		t.Errorf("linked config.toml:\n%s", b)
	}
	onlyFiles(t, real, "config.json", "config.toml")
}

// TestSetDockerHelperDockerHub checks that setting up Docker Hub, by any
// of its names, writes a credHelpers entry under every key the tools look
// it up by, and that --unset takes back all of them.
func TestSetDockerHelperDockerHub(t *testing.T) {
	t.Parallel()
	keys := []string{"https://index.docker.io/v1/", "index.docker.io", "docker.io", "registry-1.docker.io"}
	for _, name := range []string{"docker.io", "index.docker.io", "registry-1.docker.io"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, "config.json")
			writeOld(t, path, `{"credHelpers": {"gcr.io": "gcloud"}, "auths": {}}`)
			if err := helper.SetDockerHelper(dir, name, false, false); err != nil {
				t.Fatal(err)
			}
			want := map[string]any{"gcr.io": "gcloud"}
			for _, k := range keys {
				want[k] = "oidc"
			}
			if got := decodeJSON(t, readFile(t, path))["credHelpers"]; !reflect.DeepEqual(got, want) {
				t.Errorf("credHelpers = %v, want %v", got, want)
			}
			if err := helper.SetDockerHelper(dir, name, false, true); err != nil {
				t.Fatal(err)
			}
			if got := decodeJSON(t, readFile(t, path)); !reflect.DeepEqual(got, map[string]any{"credHelpers": map[string]any{"gcr.io": "gcloud"}, "auths": map[string]any{}}) {
				t.Errorf("config.json after --unset = %v", got)
			}
		})
	}
}

// TestSetHelmHelper checks the edits of helm's registry config: the same
// format as docker's config.json, every other field kept.
func TestSetHelmHelper(t *testing.T) {
	t.Parallel()
	const helmConfig = `{"auths": {"ghcr.io": {"auth": "dXNlcjpwdw=="}}, "credsStore": "secretservice", "credHelpers": {"gcr.io": "gcloud"}}`
	tests := []struct {
		name, old string // old "" for no file
		registry  string
		unset     bool
		change    func(m map[string]any)
	}{
		{
			name: "new file", registry: "registry.example.org",
			change: func(m map[string]any) { m["credHelpers"] = map[string]any{"registry.example.org": "oidc"} },
		},
		{
			name: "existing file", old: helmConfig, registry: "127.0.0.1:5000",
			change: func(m map[string]any) { m["credHelpers"].(map[string]any)["127.0.0.1:5000"] = "oidc" },
		},
		{
			name: "unset", old: `{"credHelpers": {"r.example.org": "oidc", "gcr.io": "gcloud"}}`, registry: "r.example.org", unset: true,
			change: func(m map[string]any) { delete(m["credHelpers"].(map[string]any), "r.example.org") },
		},
		{
			name: "unset keeps another helper's entry", old: helmConfig, registry: "gcr.io", unset: true,
			change: func(map[string]any) {},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			dir := filepath.Join(t.TempDir(), "helm", "registry")
			path := filepath.Join(dir, "config.json")
			want := map[string]any{}
			if tt.old != "" {
				if err := os.MkdirAll(dir, 0o700); err != nil {
					t.Fatal(err)
				}
				writeOld(t, path, tt.old)
				want = decodeJSON(t, []byte(tt.old))
			}
			tt.change(want)
			if err := helper.SetHelmHelper(path, tt.registry, tt.unset); err != nil {
				t.Fatalf("SetHelmHelper: %v", err)
			}
			if got := decodeJSON(t, readFile(t, path)); !reflect.DeepEqual(got, want) {
				t.Errorf("config.json\n%v\nwant\n%v", got, want)
			}
			onlyFiles(t, dir, "config.json")
		})
	}
	t.Run("unparsable", func(t *testing.T) {
		t.Parallel()
		path := filepath.Join(t.TempDir(), "config.json")
		mtime := writeOld(t, path, "{\n")
		if err := helper.SetHelmHelper(path, "registry.example.org", false); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("SetHelmHelper: %v, want an error naming %s", err, path)
		}
		untouched(t, path, "{\n", mtime)
	})
}

func TestAsksHelper(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, content, registry string
		want                    bool
	}{
		{"no file", "", "r.example.org", false},
		{"credHelpers entry", `{"credHelpers": {"r.example.org": "oidc"}}`, "r.example.org", true},
		{"another registry's entry", `{"credHelpers": {"s.example.org": "oidc"}}`, "r.example.org", false},
		{"another helper's entry", `{"credHelpers": {"r.example.org": "gcloud"}, "credsStore": "oidc"}`, "r.example.org", false},
		{"credsStore", `{"credsStore": "oidc"}`, "r.example.org", true},
		{"another credsStore", `{"credsStore": "desktop"}`, "r.example.org", false},
		{"Docker Hub by another name", `{"credHelpers": {"https://index.docker.io/v1/": "oidc"}}`, "docker.io", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "config.json")
			if tt.content != "" {
				writeOld(t, path, tt.content)
			}
			if got, err := helper.AsksHelper(path, tt.registry); err != nil || got != tt.want {
				t.Errorf("AsksHelper = %v, %v; want %v", got, err, tt.want)
			}
		})
	}
}

// TestRemoveLastServerThenAdd checks that a config file whose last entry
// was removed takes a new one: an undone setup can be done again.
func TestRemoveLastServerThenAdd(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "config.toml")
	first := helper.Server{Match: "https://git.example.org", Host: "https://auth.example.org"}
	if err := helper.AddServer(path, first); err != nil {
		t.Fatal(err)
	}
	if found, err := helper.RemoveServer(path, first.Match); !found || err != nil {
		t.Fatalf("RemoveServer = %v, %v; want true, nil", found, err)
	}
	if err := helper.AddServer(path, helper.Server{Match: "registry.example.org", Host: "https://auth.example.org"}); err != nil {
		t.Fatal(err)
	}
	cfg, err := helper.LoadConfig(path)
	if err != nil || len(cfg.Servers) != 1 || cfg.Servers[0].Match != "registry.example.org" {
		b, _ := os.ReadFile(path)
		t.Fatalf("LoadConfig = %+v, %v; the file:\n%s", cfg, err, b)
	}
}
