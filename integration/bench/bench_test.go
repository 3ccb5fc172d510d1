package main

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// The 1,000-login file is one the store reads: every entry is there, in
// the v1 layout, and the real login is found among them.
func TestManyLoginsIsAStoreFile(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	one := &keyring.FileStore{Path: filepath.Join(dir, "tokens.json")}
	host := "http://127.0.0.1:8080/api/app"
	rec := &keyring.Record{}
	rec.Token.AccessToken = "access"
	rec.Token.RefreshToken = "refresh"
	rec.Token.Expires = time.Now().Add(time.Hour).Unix()
	rec.Token.RefreshExpires = time.Now().Add(24 * time.Hour).Unix()
	if err := one.Put(ctx, host, rec); err != nil {
		t.Fatal(err)
	}
	b := &bench{dir: dir}
	path, err := b.manyLogins(one.Path)
	if err != nil {
		t.Fatal(err)
	}
	many := &keyring.FileStore{Path: path}
	list, err := many.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != manyLogins {
		t.Fatalf("the store lists %d logins, want %d", len(list), manyLogins)
	}
	got, err := many.Get(ctx, host)
	if err != nil || got.Token.AccessToken != "access" {
		t.Fatalf("the real login: %v, %+v", err, got)
	}
	other, err := many.Get(ctx, "https://auth-0001.example.org/api/app")
	if err != nil {
		t.Fatal(err)
	}
	if n := len(other.Token.AccessToken); n < 1000 || n > 1200 || strings.Count(other.Token.AccessToken, ".") != 2 {
		t.Errorf("the other logins' access tokens are not ~1 KB JWT-shaped: %d bytes", n)
	}
	if mb := fileMB(path); mb < 1.5 {
		t.Errorf("the file is %.1f MB; 1,000 logins with ~1 KB tokens make about 2 MB", mb)
	}
}

// The 1,000-server config is one the helpers load, with the real server last.
func TestManyServersIsAConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.toml")
	own := "[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"http://127.0.0.1:8080/api/app\"\nallow_http = true\n"
	if err := os.WriteFile(cfg, []byte(own), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &bench{dir: dir}
	path, err := b.manyServers(cfg)
	if err != nil {
		t.Fatal(err)
	}
	c, err := helper.LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Servers) != manyServers || c.Servers[manyServers-1].Host != "http://127.0.0.1:8080/api/app" {
		t.Fatalf("%d servers, the last %+v", len(c.Servers), c.Servers[len(c.Servers)-1])
	}
}

// parseInittrace reads the lines the Go runtime writes, and nothing else.
func TestParseInittrace(t *testing.T) {
	out := "init internal/bytealg @0.008 ms, 0 ms clock, 0 bytes, 0 allocs\n" +
		"init github.com/russross/blackfriday/v2 @1.2 ms, 0.74 ms clock, 214056 bytes, 762 allocs\n" +
		"protocol=https\n"
	got := parseInittrace(out)
	if len(got) != 2 || got[1].pkg != "github.com/russross/blackfriday/v2" || got[1].clock != 0.74 || got[1].bytes != 214056 || got[1].allocs != 762 {
		t.Fatalf("%+v", got)
	}
}
