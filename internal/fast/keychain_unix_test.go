//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

// Unix only: the commands read the keychain themselves where it is the Secret Service, on Linux and the BSDs; elsewhere oidc-auth-core reads it.

package fast

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"github.com/oidc-auth/oidc-auth/internal/secretservice"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// requireKeychain skips the test unless a Secret Service of the tests' own
// is there (scripts/with-secret-service): never the person's keychain.
func requireKeychain(t *testing.T) {
	t.Helper()
	switch why := secretservice.BusMissing(); {
	case os.Getenv("OIDC_AUTH_TEST_KEYCHAIN") != "1":
		t.Skip("no Secret Service of the tests' own here (OIDC_AUTH_TEST_KEYCHAIN unset); scripts/with-secret-service provides one")
	case why != "":
		t.Fatalf("OIDC_AUTH_TEST_KEYCHAIN=1, but %s", why)
	}
}

// setUpKeychain is setUp with sc's logins in the keychain, item by item as
// keyring keeps them, instead of in a token file, and the store backend
// ("" for auto) chosen by the environment, as a desktop has it.
func setUpKeychain(t *testing.T, sc scenario, backend string) {
	t.Helper()
	setUp(t, scenario{config: sc.config})
	t.Setenv("OIDC_TOKEN_FILE", "")
	t.Setenv("OIDC_AUTH_STORE", backend)
	var members map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+sc.entries+"}"), &members); err != nil {
		t.Fatal(err)
	}
	for key, value := range members {
		if err := gokeyring.Set(keychainService, key, string(value)); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { gokeyring.Delete(keychainService, key) })
	}
}

// TestKeychainAsTheHelper checks the cached path against the helper, byte
// for byte, with the logins in the keychain, forced and as the default
// (auto): every scenario of the token file but the thousand logins.
func TestKeychainAsTheHelper(t *testing.T) {
	requireKeychain(t)
	n := time.Now().Unix()
	for _, backend := range []string{"keychain", ""} {
		for _, sc := range scenarios(n) {
			if strings.HasPrefix(sc.name, "many logins") {
				continue // a thousand items take seconds to write; the token file has the case
			}
			t.Run(backend+"/"+sc.name, func(t *testing.T) {
				setUpKeychain(t, sc, backend)
				checkAsTheHelper(t, sc)
			})
		}
	}
}

// TestKeychainSplitsAndFallbacks: a record split into parts is read as
// keyring reads it, and one whose parts do not add up is left to the core;
// with the default store a login the keychain does not hold is read from
// the token file, and a keychain another process found silent is left to
// the core.
func TestKeychainSplitsAndFallbacks(t *testing.T) {
	requireKeychain(t)
	n := time.Now().Unix()
	team := "[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"https://auth.example.org\"\n"
	const key = "https://auth.example.org"
	put := func(t *testing.T, access string, expires int64) {
		t.Helper()
		rec := &keyring.Record{Token: keyring.Token{AccessToken: access, TokenType: "Bearer", Expires: expires, RefreshToken: strings.Repeat("r", 900), RefreshExpires: expires}}
		s := &keyring.KeychainStore{}
		if err := s.Put(context.Background(), key, rec); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Remove(context.Background(), key) })
	}
	t.Run("split record", func(t *testing.T) {
		setUpKeychain(t, scenario{config: team}, "")
		put(t, strings.Repeat("a", 3000), n+3600)
		if v, _ := gokeyring.Get(keychainService, key); !strings.HasPrefix(v, secretservice.ChunkHeader) {
			t.Fatalf("keyring did not split the record: %.40q", v)
		}
		checkAsTheHelper(t, scenario{config: team, req: gitReq(), answers: true})
	})
	t.Run("split record whose parts do not add up", func(t *testing.T) {
		setUpKeychain(t, scenario{config: team}, "")
		put(t, strings.Repeat("b", 3000), n+3600)
		v, _ := gokeyring.Get(keychainService, key)
		gen, _, _, err := secretservice.ParseChunkHeader(v)
		if err != nil {
			t.Fatal(err)
		}
		// A part changed so that the whole is still a record, of another
		// token: only the hash tells.
		part := secretservice.ChunkUser(key, gen, 1)
		p, err := gokeyring.Get(keychainService, part)
		if err != nil || !strings.Contains(p, "bbbb") {
			t.Fatalf("part 1: %.40q, %v", p, err)
		}
		if err := gokeyring.Set(keychainService, part, strings.Replace(p, "bbbb", "dbbb", 1)); err != nil {
			t.Fatal(err)
		}
		checkAsTheHelper(t, scenario{config: team, req: gitReq()})
	})
	t.Run("default store, the login in the file", func(t *testing.T) {
		setUpKeychain(t, scenario{config: team}, "")
		put(t, "dead", n-7200) // the keychain's record is of no use: keyring reads the file
		file := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "oidc-auth", "token-store.json")
		if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte("{"+member(key, "tok-file", n+3600, "")+"}"), 0o600); err != nil {
			t.Fatal(err)
		}
		checkAsTheHelper(t, scenario{config: team, req: gitReq(), answers: true})
		var out bytes.Buffer
		if ok, _ := Git([]byte(gitReq()), &out); !ok || !strings.Contains(out.String(), "password=tok-file\n") {
			t.Errorf("answered %q, want the file's token", out.String())
		}
	})
	t.Run("default store, a keychain found silent", func(t *testing.T) {
		setUpKeychain(t, scenario{config: team}, "")
		put(t, "tok-kc", n+3600)
		checkAsTheHelper(t, scenario{config: team, req: gitReq(), answers: true})
		locks := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "oidc-auth", ".token-store.json.locks")
		if err := os.MkdirAll(locks, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(locks, "keychain-silent"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		if ok, _ := Git([]byte(gitReq()), &out); ok || out.Len() > 0 {
			t.Errorf("answered %q past the marker of a silent keychain, which oidc-auth-core obeys", out.String())
		}
		// keyring leaves the marker behind: one of ten minutes ago is
		// history, and the keychain is read again.
		old := time.Now().Add(-10 * time.Minute)
		if err := os.Chtimes(filepath.Join(locks, "keychain-silent"), old, old); err != nil {
			t.Fatal(err)
		}
		checkAsTheHelper(t, scenario{config: team, req: gitReq(), answers: true})
	})
}

// TestDefaultStoreWithoutSessionBus: with no session bus, as on CI
// runners and over SSH, the default store is the token file, and the
// cached path answers from it as the helper does; a forced keychain is
// left to oidc-auth-core, which says it is unavailable.
func TestDefaultStoreWithoutSessionBus(t *testing.T) {
	n := time.Now().Unix()
	team := "[[server]]\nmatch = \"https://git.example.org/team/\"\nhost = \"https://auth.example.org\"\n"
	for _, tt := range []struct {
		name, backend, access string
		expires               int64
		answers               bool
	}{
		{"valid", "", "tok-nobus", n + 3600, true},
		{"expired", "", "tok-gone", n - 10, false},
		{"forced keychain", "keychain", "tok-forced", n + 3600, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			sc := scenario{config: team, req: gitReq(), answers: tt.answers}
			setUp(t, sc)
			t.Setenv("OIDC_TOKEN_FILE", "")
			t.Setenv("OIDC_AUTH_STORE", tt.backend)
			t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
			if secretservice.BusMissing() == "" {
				t.Skipf("a session bus is found without DBUS_SESSION_BUS_ADDRESS (in /run/user/%d): the case needs a machine without one", os.Getuid())
			}
			file := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "oidc-auth", "token-store.json")
			if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(file, []byte("{"+member("https://auth.example.org", tt.access, tt.expires, "")+"}"), 0o600); err != nil {
				t.Fatal(err)
			}
			checkAsTheHelper(t, sc)
		})
	}
}
