package helper_test

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/oidc-auth/oidc-auth/helper"
)

const inspectConfig = `[[server]]
match = "https://git.example.org/team/"
host = "https://auth.example.org/api/app"

[[server]]
match = "registry.example.org"
issuer = "https://idp.example.org/realms/x"
client_id = "cli"
`

func TestLoginFor(t *testing.T) {
	t.Parallel()
	cfg, err := helper.ParseConfig("config.toml", []byte(inspectConfig))
	if err != nil {
		t.Fatal(err)
	}
	issuerKey, err := helper.Flows(&helper.Server{Issuer: "https://idp.example.org/realms/x", ClientID: "cli"}).Key()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ tool, target, want string }{
		{helper.ToolGit, "https://git.example.org/team/", "https://auth.example.org"},
		{helper.ToolGit, "https://git.example.org/team/app.git", "https://auth.example.org"},
		{helper.ToolGit, "https://git.example.org/other/", "https://git.example.org"},
		{helper.ToolGit, "https://GIT.example.org:443/teamevil/", "https://git.example.org"},
		{helper.ToolDocker, "registry.example.org", issuerKey},
		{helper.ToolDocker, "https://registry.example.org/v1/", issuerKey},
		{helper.ToolDocker, "other.example.org:5000", "https://other.example.org:5000"},
		{helper.ToolGit, "ssh://git.example.org/x", ""},
		{helper.ToolDocker, "", ""},
	}
	for _, tt := range tests {
		if got := helper.LoginFor(cfg, tt.tool, tt.target); got != tt.want {
			t.Errorf("LoginFor(%s, %q) = %q, want %q", tt.tool, tt.target, got, tt.want)
		}
	}
	var none *helper.Config
	if got := helper.LoginFor(none, helper.ToolGit, "https://h.example.org/x/"); got != "https://h.example.org" {
		t.Errorf("LoginFor without a config = %q", got)
	}
}

func TestConfigUses(t *testing.T) {
	t.Parallel()
	cfg, err := helper.ParseConfig("config.toml", []byte(inspectConfig))
	if err != nil {
		t.Fatal(err)
	}
	got := helper.ConfigUses(cfg, "/c/config.toml")
	if len(got) != 2 || got[0].Tool != helper.ToolGit || got[0].Target != "https://git.example.org/team/" || got[0].Login != "https://auth.example.org" ||
		got[1].Tool != helper.ToolDocker || got[1].Target != "registry.example.org" || got[1].Source != "/c/config.toml" {
		t.Errorf("ConfigUses = %+v", got)
	}
}

func TestDockerUses(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if got, err := helper.DockerUses(nil, dir); err != nil || len(got) != 0 {
		t.Errorf("DockerUses without a config.json = %+v, %v", got, err)
	}
	doc := `{"auths": {}, "credHelpers": {"b.example.org": "oidc", "gcr.io": "gcloud", "a.example.org:5000": "oidc"}, "credsStore": "oidc"}`
	if err := os.WriteFile(filepath.Join(dir, "config.json"), []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	got, err := helper.DockerUses(nil, dir)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "config.json")
	want := []helper.Use{
		{Tool: helper.ToolDocker, Target: "a.example.org:5000", Source: path + " credHelpers", Login: "https://a.example.org:5000"},
		{Tool: helper.ToolDocker, Target: "b.example.org", Source: path + " credHelpers", Login: "https://b.example.org"},
		{Tool: helper.ToolDocker, Target: helper.EveryTarget, Source: path + " credsStore"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("DockerUses =\n%+v\nwant\n%+v", got, want)
	}
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := helper.DockerUses(nil, dir); err == nil {
		t.Error("DockerUses of a broken config.json: no error")
	}
}

func TestGitUses(t *testing.T) {
	s := newGitSandbox(t, setupSection+
		"[credential \"https://other.example.org\"]\n\thelper = store\n"+
		"[credential]\n\thelper = /usr/local/bin/git-credential-oidc\n")
	got, err := helper.GitUses(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []helper.Use{
		{Tool: helper.ToolGit, Target: "https://git.example.org/team/", Source: "credential.https://git.example.org/team/.helper in " + s.global, Login: "https://git.example.org"},
		{Tool: helper.ToolGit, Target: helper.EveryTarget, Source: "credential.helper in " + s.global},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("GitUses =\n%+v\nwant\n%+v", got, want)
	}
}
