package keyring_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/oidc-auth/oidc-auth/keyring"
)

func ExampleKey() {
	for _, server := range []string{
		"HTTPS://Auth.Example.org:443/api/app",
		"auth.example.org",
		"http://localhost:8080/realms/test?x=1",
		"[2001:DB8::1]:443",
	} {
		k, err := keyring.Key(server)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k)
	}
	// Output:
	// https://auth.example.org
	// https://auth.example.org
	// http://localhost:8080
	// https://[2001:db8::1]
}

func ExampleFileStore() {
	dir, err := os.MkdirTemp("", "keyring-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	ctx := context.Background()
	now := time.Unix(1767222000, 0) // 2025-12-31T23:00:00Z
	store := &keyring.FileStore{
		Path: filepath.Join(dir, "oidc-auth", "token-store.json"),
		Now:  func() time.Time { return now },
	}
	tok := keyring.Token{
		AccessToken:    "eyJhbGciOi…",
		TokenType:      "Bearer",
		Expires:        now.Add(time.Hour).Unix(),
		RefreshToken:   "eyJhbGciOi…",
		RefreshExpires: now.Add(24 * time.Hour).Unix(),
		Headers:        map[string]string{"Authorization": "Bearer eyJhbGciOi…"},
	}
	if err := store.Put(ctx, "https://auth.example.org/api/app", &keyring.Record{Token: tok}); err != nil {
		log.Fatal(err)
	}

	rec, err := store.Get(ctx, "auth.example.org")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(rec.Token.Headers["Authorization"])
	fmt.Println("valid:", rec.Token.Valid(now), "expires:", rec.Token.ExpiresAt().UTC())
	fmt.Println("stored:", rec.StoredAt.UTC())

	_, err = store.Get(ctx, "other.example.org")
	fmt.Println(errors.Is(err, keyring.ErrNotFound))
	// Output:
	// Bearer eyJhbGciOi…
	// valid: true expires: 2026-01-01 00:00:00 +0000 UTC
	// stored: 2025-12-31 23:00:00 +0000 UTC
	// true
}

func ExampleToken_Valid() {
	tok := keyring.Token{AccessToken: "at", Expires: 1767225600}
	expiry := tok.ExpiresAt()
	fmt.Println(tok.Valid(expiry.Add(-61 * time.Second)))
	fmt.Println(tok.Valid(expiry.Add(-60 * time.Second)))
	// Output:
	// true
	// false
}

func ExampleOpen() {
	// With an explicit Path, neither $OIDC_TOKEN_FILE nor the default
	// location is consulted.
	store, err := keyring.Open(keyring.Options{Path: "/var/lib/ci/tokens.json"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(store.(*keyring.FileStore).Path)
	// Output:
	// /var/lib/ci/tokens.json
}

// ExampleOpen_appName opens the token file of an application by its
// name, like the reference client's TokenStore(app_name=…). With
// XDG_CACHE_HOME set, as here, the app name py-oidc-auth's file is the
// Python client's own on every platform (PythonFilePath names that file
// when XDG_CACHE_HOME is unset too). The path is printed with forward
// slashes, as filepath.ToSlash makes it, so that the output is the same
// on Windows.
func ExampleOpen_appName() {
	for k, v := range map[string]string{"XDG_CACHE_HOME": "/home/jane/.cache", keyring.TokenFileEnv: ""} {
		old, had := os.LookupEnv(k)
		os.Setenv(k, v)
		defer func() {
			if had {
				os.Setenv(k, old)
			} else {
				os.Unsetenv(k)
			}
		}()
	}
	store, err := keyring.Open(keyring.Options{AppName: "py-oidc-auth", Backend: keyring.BackendFile})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(filepath.ToSlash(store.(*keyring.FileStore).Path))
	// Output:
	// /home/jane/.cache/py-oidc-auth/token-store.json
}
