package helper_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

func TestParseExecInfo(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, value string
		want        helper.ExecInfo
		wantErr     []string
	}{
		{name: "unset", value: "", want: helper.ExecInfo{APIVersion: helper.ExecAPIv1}},
		{name: "v1 interactive", value: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`,
			want: helper.ExecInfo{APIVersion: helper.ExecAPIv1, Interactive: true, Set: true}},
		{name: "v1beta1", value: `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v1beta1","spec":{"interactive":false}}`,
			want: helper.ExecInfo{APIVersion: helper.ExecAPIv1beta1, Set: true}},
		{name: "cluster info ignored", value: `{"apiVersion":"client.authentication.k8s.io/v1","spec":{"cluster":{"server":"https://k"},"interactive":false}}`,
			want: helper.ExecInfo{APIVersion: helper.ExecAPIv1, Set: true}},
		{name: "unknown version", value: `{"apiVersion":"client.authentication.k8s.io/v2","spec":{}}`,
			wantErr: []string{`"client.authentication.k8s.io/v2"`, "does not speak", helper.ExecAPIv1}},
		{name: "no version", value: `{"spec":{}}`, wantErr: []string{"no apiVersion"}},
		{name: "not JSON", value: `interactive`, wantErr: []string{"not an ExecCredential"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := helper.ParseExecInfo(tc.value)
			if tc.wantErr != nil {
				if err == nil {
					t.Fatalf("no error, got %+v", got)
				}
				for _, w := range tc.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q lacks %q", err, w)
					}
				}
				return
			}
			if err != nil || got != tc.want {
				t.Errorf("got %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestWriteExecCredential(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	exp := time.Date(2026, 12, 1, 14, 30, 0, 0, time.FixedZone("CET", 3600))
	if err := helper.WriteExecCredential(&b, helper.ExecInfo{APIVersion: helper.ExecAPIv1beta1, Set: true}, "tok.en", exp); err != nil {
		t.Fatal(err)
	}
	want := `{"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","spec":{"interactive":false},"status":{"expirationTimestamp":"2026-12-01T13:30:00Z","token":"tok.en"}}` + "\n"
	if b.String() != want {
		t.Errorf("got  %s\nwant %s", b.String(), want)
	}
}

// jwt is a JWT-shaped string with payload as its claims; unsigned, which
// JWTExpiry does not check.
func jwt(payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256"}`)) + "." + enc([]byte(payload)) + ".c2ln"
}

func TestJWTExpiry(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, raw string
		want      int64
		wantErr   string
	}{
		{name: "exp", raw: jwt(`{"sub":"a","exp":1893456000}`), want: 1893456000},
		{name: "float exp", raw: jwt(`{"exp":1893456000.5}`), want: 1893456000},
		{name: "padded", raw: strings.Replace(jwt(`{"exp":1893456000}`), ".c2ln", "", 1) + "==.c2ln", want: 1893456000},
		{name: "no exp", raw: jwt(`{"sub":"a"}`), wantErr: "no exp"},
		{name: "string exp", raw: jwt(`{"exp":"soon"}`), wantErr: "not a JSON object"},
		{name: "negative exp", raw: jwt(`{"exp":-5}`), wantErr: "not a time"},
		{name: "two parts", raw: "a.b", wantErr: "not a JWT"},
		{name: "bad base64", raw: "a.!!!.c", wantErr: "base64url"},
		{name: "array payload", raw: jwt(`[1]`), wantErr: "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := helper.JWTExpiry(tc.raw)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Errorf("error %v, want one with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got.Unix() != tc.want {
				t.Errorf("got %v, %v; want %d", got, err, tc.want)
			}
		})
	}
}

func FuzzJWTExpiry(f *testing.F) {
	f.Add(jwt(`{"exp":1893456000}`))
	f.Add("a.b.c")
	f.Add(jwt(`{"exp":1e300}`))
	f.Fuzz(func(t *testing.T, raw string) {
		exp, err := helper.JWTExpiry(raw)
		if err == nil && exp.Unix() <= 0 {
			t.Errorf("%q: expiry %v accepted", raw, exp)
		}
		if err != nil && strings.Contains(err.Error(), raw) && len(raw) > 8 {
			t.Errorf("the error repeats the token: %v", err)
		}
	})
}

func FuzzParseExecInfo(f *testing.F) {
	f.Add(`{"apiVersion":"client.authentication.k8s.io/v1","spec":{"interactive":true}}`)
	f.Add(`{"apiVersion":"\u001b[31mx"}`)
	f.Fuzz(func(t *testing.T, value string) {
		info, err := helper.ParseExecInfo(value)
		if err != nil {
			if msg := err.Error(); flows.TerminalSafe(msg) != msg {
				t.Errorf("the error carries unsafe text: %q", msg)
			}
			return
		}
		if info.APIVersion != helper.ExecAPIv1 && info.APIVersion != helper.ExecAPIv1beta1 {
			t.Errorf("%q: apiVersion %q accepted", value, info.APIVersion)
		}
	})
}

// putIssuerToken stores a standard provider's login at issuer with the
// given ID token and refresh token, its access token valid for an hour.
func putIssuerToken(t *testing.T, store keyring.TokenStore, issuer, idToken, refresh string) (flows.Config, *keyring.Record) {
	t.Helper()
	cfg := flows.Config{Issuer: issuer, ClientID: "kube"}
	key, err := cfg.Key()
	if err != nil {
		t.Fatal(err)
	}
	exp := time.Now().Add(time.Hour).Unix()
	rec := &keyring.Record{
		Token:  keyring.Token{AccessToken: "access-1", TokenType: "Bearer", Expires: exp, IDToken: idToken, RefreshToken: refresh, RefreshExpires: exp + 3600},
		Server: cfg.Server(),
	}
	if err := store.Put(context.Background(), key, rec); err != nil {
		t.Fatal(err)
	}
	got, err := store.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return cfg, got
}

func TestKubectlToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	never := flows.Options{Interaction: flows.InteractNever, NoLoginReason: "no terminal here"}

	t.Run("py-oidc-auth server: the access token, no request", func(t *testing.T) {
		t.Parallel()
		store := newStore(t)
		host := tripwire(t)
		exp := putToken(t, store, host, "access-py", &keyring.Server{Host: host})
		cfg, rec := flows.StoredConfig(ctx, store, host)
		tok, until, err := helper.KubectlToken(ctx, store, helper.KubectlRequest{Config: cfg, Record: rec, Options: never})
		if err != nil || tok != "access-py" || until.Unix() != exp {
			t.Errorf("got %q until %v, %v; want access-py until %v", tok, until, err, time.Unix(exp, 0))
		}
	})
	t.Run("issuer: the ID token and its exp, no request", func(t *testing.T) {
		t.Parallel()
		store := newStore(t)
		exp := time.Now().Add(20 * time.Minute).Unix()
		id := jwt(fmt.Sprintf(`{"exp":%d}`, exp))
		cfg, rec := putIssuerToken(t, store, tripwire(t), id, "refresh-1")
		tok, until, err := helper.KubectlToken(ctx, store, helper.KubectlRequest{Config: cfg, Record: rec, Options: never})
		if err != nil || tok != id || until.Unix() != exp {
			t.Errorf("got %q until %v, %v; want the ID token until %v", tok, until, err, time.Unix(exp, 0))
		}
	})
	t.Run("issuer with --access-token", func(t *testing.T) {
		t.Parallel()
		store := newStore(t)
		id := jwt(fmt.Sprintf(`{"exp":%d}`, time.Now().Add(-time.Hour).Unix())) // expired: not needed
		cfg, rec := putIssuerToken(t, store, tripwire(t), id, "refresh-1")
		tok, until, err := helper.KubectlToken(ctx, store, helper.KubectlRequest{Config: cfg, Record: rec, AccessToken: true, Options: never})
		if err != nil || tok != "access-1" || until.Unix() != rec.Token.Expires {
			t.Errorf("got %q until %v, %v; want the access token", tok, until, err)
		}
	})
	for _, tc := range []struct{ name, id string }{
		{"an expired ID token", jwt(fmt.Sprintf(`{"exp":%d}`, time.Now().Add(-time.Minute).Unix()))},
		{"an ID token within a minute of its end", jwt(fmt.Sprintf(`{"exp":%d}`, time.Now().Add(30*time.Second).Unix()))},
		{"no ID token", ""},
		{"an ID token without exp", jwt(`{"sub":"a"}`)},
	} {
		t.Run(tc.name+" and no refresh token: the login to run", func(t *testing.T) {
			t.Parallel()
			store := newStore(t)
			cfg, rec := putIssuerToken(t, store, tripwire(t), tc.id, "")
			_, _, err := helper.KubectlToken(ctx, store, helper.KubectlRequest{Config: cfg, Record: rec, Options: never})
			var lre *flows.LoginRequiredError
			if !errors.As(err, &lre) {
				t.Fatalf("error %v, want a LoginRequiredError", err)
			}
			if !strings.Contains(lre.Reason, "ID token has expired") || !strings.Contains(lre.Reason, "no terminal here") || !strings.HasSuffix(lre.Command, " --force") {
				t.Errorf("got %+v", lre)
			}
		})
	}
}

func TestIssuerEntry(t *testing.T) {
	t.Parallel()
	cfg := mustParseConfig(t, `
[[server]]
match = "registry.example.org"
host = "https://auth.example.org"

[[server]]
match = "https://git.example.org/"
issuer = "https://kc.example.org/realms/x/"
client_id = "kube"
client_secret = "s3cret"
`)
	s := cfg.IssuerEntry("https://KC.example.org/realms/x", "kube")
	if s == nil || s.ClientSecret != "s3cret" {
		t.Errorf("got %+v, want the entry with the secret", s)
	}
	if s := cfg.IssuerEntry("https://kc.example.org/realms/x", "other"); s != nil {
		t.Errorf("another client's entry: %+v", s)
	}
}

func TestKubectlExecFor(t *testing.T) {
	t.Parallel()
	e := helper.KubectlExecFor(helper.Server{Issuer: "https://kc.example.org/realms/x", ClientID: "kube", ClientSecret: "s3cret"}, true)
	if got := strings.Join(e.Args, " "); got != "kubectl --issuer https://kc.example.org/realms/x --client-id kube --access-token" {
		t.Errorf("args %q", got)
	}
	if name := helper.KubectlUserName(helper.Server{Issuer: "https://kc.example.org/realms/x", ClientID: "kube"}); name != "oidc-kc.example.org-kube" {
		t.Errorf("user name %q", name)
	}
	e = helper.KubectlExecFor(helper.Server{Host: "https://auth.example.org:8443/api/app"}, false)
	if got := strings.Join(e.Args, " "); got != "kubectl https://auth.example.org:8443/api/app" || e.Command != "oidc-auth" {
		t.Errorf("exec %+v", e)
	}
	if name := helper.KubectlUserName(helper.Server{Host: "https://auth.example.org:8443/api/app"}); name != "oidc-auth.example.org:8443" {
		t.Errorf("user name %q", name)
	}
}

// TestKubectlTokenIDTokenOutlivesAccessToken hands out a valid ID token
// without any request even when the access token has expired: kubectl
// needs only the ID token.
func TestKubectlTokenIDTokenOutlivesAccessToken(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	store := newStore(t)
	exp := time.Now().Add(30 * time.Minute).Unix()
	id := jwt(fmt.Sprintf(`{"exp":%d}`, exp))
	cfg, _ := putIssuerToken(t, store, tripwire(t), id, "refresh-1")
	key, _ := cfg.Key()
	rec, err := store.Get(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	rec.Token.Expires = time.Now().Add(-time.Minute).Unix()
	if err := store.Put(ctx, key, rec); err != nil {
		t.Fatal(err)
	}
	rec, _ = store.Get(ctx, key)
	tok, until, err := helper.KubectlToken(ctx, store, helper.KubectlRequest{Config: cfg, Record: rec, Options: flows.Options{Interaction: flows.InteractNever}})
	if err != nil || tok != id || until.Unix() != exp {
		t.Errorf("got %q until %v, %v; want the stored ID token", tok, until, err)
	}
}
