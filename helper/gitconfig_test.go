package helper_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/oidc-auth/oidc-auth/helper"
)

// gitSandbox points the git that helper runs at a global config file of
// its own, no system config and no config from the environment, in an
// empty directory outside any repository. It changes the environment and
// the working directory: no t.Parallel.
type gitSandbox struct {
	t      *testing.T
	dir    string
	global string
}

func newGitSandbox(t *testing.T, global string) *gitSandbox {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git on PATH")
	}
	dir := t.TempDir()
	s := &gitSandbox{t: t, dir: dir, global: filepath.Join(dir, "gitconfig")}
	s.write("gitconfig", global)
	home := filepath.Join(dir, "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "GIT_") {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", filepath.Join(dir, "xdg"))
	t.Setenv("GIT_CONFIG_GLOBAL", s.global)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CEILING_DIRECTORIES", dir)
	work := filepath.Join(dir, "work")
	if err := os.Mkdir(work, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir(work)
	return s
}

// write writes a file below the sandbox and returns its path.
func (s *gitSandbox) write(name, content string) string {
	s.t.Helper()
	p := filepath.Join(s.dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		s.t.Fatal(err)
	}
	return p
}

// git runs git in the working directory and fails the test on an error.
func (s *gitSandbox) git(args ...string) string {
	s.t.Helper()
	out, err := exec.Command("git", args...).CombinedOutput()
	if err != nil {
		s.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// setupSection is what `oidc-auth setup git https://git.example.org/team/`
// writes to the global config.
const setupSection = "[credential \"https://git.example.org/team/\"]\n\thelper =\n\thelper = oidc\n\tuseHttpPath = true\n"

const teamRepo = "https://git.example.org/team/app.git"

// helperSummary is a GitHelper without Origin and Remedy, which tests
// check on their own.
type helperSummary struct {
	Name, Value, Key, Scope string
	Ours, AfterOurs         bool
}

func summarize(hs []helper.GitHelper) []helperSummary {
	var out []helperSummary
	for _, h := range hs {
		out = append(out, helperSummary{h.Name, h.Value, h.Key, h.Scope, h.Ours, h.AfterOurs})
	}
	return out
}

func TestCredentialHelpers(t *testing.T) {
	ours := helperSummary{Name: "oidc", Value: "oidc", Key: "credential.https://git.example.org/team/.helper", Scope: "global", Ours: true}
	tests := []struct {
		name   string
		global string
		url    string // default teamRepo
		want   []helperSummary
	}{
		{name: "no config"},
		{name: "setup's config only", global: setupSection, want: []helperSummary{ours}},
		{
			name:   "generic helper before setup's reset",
			global: "[credential]\n\thelper = store\n" + setupSection,
			want:   []helperSummary{ours},
		},
		{
			name:   "generic helper after ours",
			global: setupSection + "[credential]\n\thelper = cache --timeout=3600\n",
			want:   []helperSummary{ours, {Name: "cache", Value: "cache --timeout=3600", Key: "credential.helper", Scope: "global", AfterOurs: true}},
		},
		{
			name:   "helper of the same section after ours",
			global: setupSection + "\thelper = store\n",
			want:   []helperSummary{ours, {Name: "store", Value: "store", Key: "credential.https://git.example.org/team/.helper", Scope: "global", AfterOurs: true}},
		},
		{
			name:   "helper before ours without a reset",
			global: "[credential]\n\thelper = osxkeychain\n[credential \"https://git.example.org/team/\"]\n\thelper = oidc\n",
			want:   []helperSummary{{Name: "osxkeychain", Value: "osxkeychain", Key: "credential.helper", Scope: "global"}, ours},
		},
		{
			name: "helpers of other URLs",
			global: setupSection +
				"[credential \"https://other.example.org\"]\n\thelper = store\n" +
				"[credential \"https://git.example.org/teamx\"]\n\thelper = store\n" +
				"[credential \"http://git.example.org\"]\n\thelper = store\n" +
				"[credential \"https://bob@git.example.org\"]\n\thelper = store\n" +
				"[credential \"example.org\"]\n\thelper = store\n" +
				"[credential \"git.example.org/team\"]\n\thelper = store\n",
			want: []helperSummary{ours},
		},
		{
			name: "helpers of matching URLs",
			global: setupSection +
				"[credential \"https://*.example.org\"]\n\thelper = wincred\n" +
				"[credential \"HTTPS://GIT.example.org:443/team/app.git\"]\n\thelper = manager\n" +
				"[credential \"git.example.org\"]\n\thelper = store\n" +
				"[credential \"git.example.org/team/app.git\"]\n\thelper = cache\n",
			want: []helperSummary{
				ours,
				{Name: "wincred", Value: "wincred", Key: "credential.https://*.example.org.helper", Scope: "global", AfterOurs: true},
				{Name: "manager", Value: "manager", Key: "credential.HTTPS://GIT.example.org:443/team/app.git.helper", Scope: "global", AfterOurs: true},
				{Name: "store", Value: "store", Key: "credential.git.example.org.helper", Scope: "global", AfterOurs: true},
				{Name: "cache", Value: "cache", Key: "credential.git.example.org/team/app.git.helper", Scope: "global", AfterOurs: true},
			},
		},
		{
			name:   "username in the URL",
			global: setupSection + "[credential \"https://alice@git.example.org\"]\n\thelper = store\n",
			url:    "https://alice@git.example.org/team/app.git",
			want:   []helperSummary{ours, {Name: "store", Value: "store", Key: "credential.https://alice@git.example.org.helper", Scope: "global", AfterOurs: true}},
		},
		{
			name:   "an empty value after ours empties the list",
			global: setupSection + "[credential]\n\thelper =\n\thelper = store\n",
			want:   []helperSummary{{Name: "store", Value: "store", Key: "credential.helper", Scope: "global"}},
		},
		{
			name: "helpers by path and shell",
			global: setupSection + "[credential]\n\thelper = /usr/lib/git-core/git-credential-libsecret\n" +
				"\thelper = \"!f() { echo password=x; }; f\"\n\thelper = /opt/bin/git-credential-oidc\n\thelper = \"!git-credential-oidc\"\n",
			want: []helperSummary{
				ours,
				{Name: "libsecret", Value: "/usr/lib/git-core/git-credential-libsecret", Key: "credential.helper", Scope: "global", AfterOurs: true},
				{Name: "!f() { echo password=x; }; f", Value: "!f() { echo password=x; }; f", Key: "credential.helper", Scope: "global", AfterOurs: true},
				{Name: "oidc", Value: "/opt/bin/git-credential-oidc", Key: "credential.helper", Scope: "global", Ours: true},
				{Name: "oidc", Value: "!git-credential-oidc", Key: "credential.helper", Scope: "global", Ours: true},
			},
		},
		{
			name:   "helper key without a value is skipped",
			global: setupSection + "[credential]\n\thelper\n",
			want:   []helperSummary{ours},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newGitSandbox(t, tt.global)
			u := tt.url
			if u == "" {
				u = teamRepo
			}
			got, err := helper.CredentialHelpers(context.Background(), u)
			if err != nil {
				t.Fatalf("CredentialHelpers: %v", err)
			}
			if s := summarize(got); !reflect.DeepEqual(s, tt.want) {
				t.Errorf("helpers\n%+v\nwant\n%+v", s, tt.want)
			}
		})
	}
}

// TestStorageHelpersRemedy checks StorageHelpers against real config
// files of every scope, and that each file's remedy, run as given,
// removes that helper and nothing else.
func TestStorageHelpersRemedy(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the test runs the remedies with sh, and Windows quotes them for cmd instead (TestQuoteArgOnWindows checks that)")
	}
	s := newGitSandbox(t, "")
	inc := s.write("included.gitconfig", "[credential]\n\thelper = cache --timeout=3600\n")
	system := s.write("system.gitconfig", "[credential]\n\thelper = manager\n")
	s.write("gitconfig", "[credential]\n\thelper = osxkeychain\n"+
		"[credential \"https://git.example.org/team/\"]\n\thelper = oidc\n\thelper = store\n\tuseHttpPath = true\n"+
		"[include]\n\tpath = "+inc+"\n")
	t.Setenv("GIT_CONFIG_NOSYSTEM", "")
	t.Setenv("GIT_CONFIG_SYSTEM", system)
	s.git("init", "--quiet", ".")
	s.git("config", "--local", "credential.helper", "!f() { test $1 = get && echo 'password=it'\\''s'; }; f")
	if err := os.Mkdir("sub", 0o700); err != nil {
		t.Fatal(err)
	}
	t.Chdir("sub") // remedies for the repository's config work from below its top
	t.Setenv("GIT_CONFIG_COUNT", "1")
	t.Setenv("GIT_CONFIG_KEY_0", "credential.helper")
	t.Setenv("GIT_CONFIG_VALUE_0", "libsecret")

	ctx := context.Background()
	got, err := helper.StorageHelpers(ctx, teamRepo)
	if err != nil {
		t.Fatal(err)
	}
	type where struct{ Name, Scope, Origin string }
	var places []where
	for _, h := range got {
		places = append(places, where{h.Name, h.Scope, h.Origin})
		if !h.AfterOurs && h.Name != "manager" && h.Name != "osxkeychain" {
			t.Errorf("%s is not after ours", h.Name)
		}
	}
	shell := "!f() { test $1 = get && echo 'password=it'\\''s'; }; f"
	want := []where{
		{"manager", "system", system},
		{"osxkeychain", "global", s.global},
		{"store", "global", s.global},
		{"cache", "global", inc},
		{shell, "local", ".git/config"},
		{"libsecret", "command", "command line:"},
	}
	if !reflect.DeepEqual(places, want) {
		t.Fatalf("storage helpers\n%q\nwant\n%q", places, want)
	}
	for _, h := range got {
		if h.Remedy == "" {
			t.Errorf("%s has no remedy", h.Name)
		}
		if h.Scope == "command" {
			if !strings.Contains(h.Remedy, "GIT_CONFIG_COUNT") || !strings.Contains(h.Remedy, "credential.helper=libsecret") {
				t.Errorf("remedy for the environment's helper: %q", h.Remedy)
			}
			continue
		}
		t.Logf("remedy for %s: %s", h.Name, h.Remedy)
		if out, err := exec.Command("sh", "-c", h.Remedy).CombinedOutput(); err != nil {
			t.Fatalf("remedy %q: %v\n%s", h.Remedy, err, out)
		}
		after, err := helper.CredentialHelpers(ctx, teamRepo)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range after {
			if a.Value == h.Value {
				t.Errorf("after %q: %s is still there", h.Remedy, a.Value)
			}
		}
	}
	after, err := helper.CredentialHelpers(ctx, teamRepo)
	if err != nil {
		t.Fatal(err)
	}
	want2 := []helperSummary{
		{Name: "oidc", Value: "oidc", Key: "credential.https://git.example.org/team/.helper", Scope: "global", Ours: true},
		{Name: "libsecret", Value: "libsecret", Key: "credential.helper", Scope: "command", AfterOurs: true},
	}
	if got := summarize(after); !reflect.DeepEqual(got, want2) {
		t.Errorf("after the remedies\n%+v\nwant\n%+v", got, want2)
	}
	// The rest of the files is as it was.
	if got := s.git("config", "--global", "--get", "credential.https://git.example.org/team/.usehttppath"); got != "true\n" {
		t.Errorf("useHttpPath after the remedies: %q", got)
	}
}

func TestStorageHelpersWithoutOurs(t *testing.T) {
	newGitSandbox(t, "[credential]\n\thelper = store\n")
	got, err := helper.StorageHelpers(context.Background(), teamRepo)
	if err != nil || len(got) != 0 {
		t.Errorf("StorageHelpers without ours = %+v, %v; want none", got, err)
	}
}

func TestCredentialHelpersErrors(t *testing.T) {
	newGitSandbox(t, setupSection)
	for _, u := range []string{"ssh://git.example.org/x", "git.example.org/team", "https:///x", "https://git.example.org/a\nb", "::"} {
		if _, err := helper.CredentialHelpers(context.Background(), u); err == nil || !strings.HasPrefix(err.Error(), "helper: ") {
			t.Errorf("CredentialHelpers(%q): %v, want a helper: error", u, err)
		}
	}
	s := newGitSandbox(t, "[credential\n")
	_ = s
	if _, err := helper.CredentialHelpers(context.Background(), teamRepo); err == nil || !strings.Contains(err.Error(), "git config") {
		t.Errorf("CredentialHelpers with a broken config: %v, want git's error", err)
	}
}

func TestGitVersion(t *testing.T) {
	newGitSandbox(t, "")
	v, err := helper.GitVersion(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("git", "--version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(out), "git version "+v.String()) && !strings.HasPrefix(string(out), "git version "+strings.TrimSuffix(v.String(), ".0")) {
		t.Errorf("GitVersion = %v, git says %q", v, out)
	}
	tests := []struct {
		v            helper.GitRelease
		major, minor int
		want         bool
	}{
		{helper.GitRelease{2, 39, 5}, 2, 46, false},
		{helper.GitRelease{2, 46, 0}, 2, 46, true},
		{helper.GitRelease{2, 47, 3}, 2, 46, true},
		{helper.GitRelease{3, 0, 0}, 2, 46, true},
		{helper.GitRelease{1, 99, 0}, 2, 46, false},
	}
	for _, tt := range tests {
		t.Run(tt.v.String(), func(t *testing.T) {
			if got := tt.v.AtLeast(tt.major, tt.minor); got != tt.want {
				t.Errorf("%v.AtLeast(%d, %d) = %v", tt.v, tt.major, tt.minor, got)
			}
		})
	}
}
