package fast

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/pkg/apis/clientauthentication"
	"k8s.io/client-go/pkg/apis/clientauthentication/install"

	"github.com/oidc-auth/oidc-auth/flows"
	"github.com/oidc-auth/oidc-auth/helper"
	"github.com/oidc-auth/oidc-auth/keyring"
)

// clientGoExecInfo is $KUBERNETES_EXEC_INFO as client-go's exec plugin
// runner writes it for an exec block of apiVersion version.
func clientGoExecInfo(t *testing.T, version string, interactive bool, cluster bool) string {
	t.Helper()
	scheme := runtime.NewScheme()
	install.Install(scheme)
	codecs := serializer.NewCodecFactory(scheme)
	gv, err := schema.ParseGroupVersion(version)
	if err != nil {
		t.Fatal(err)
	}
	cred := &clientauthentication.ExecCredential{Spec: clientauthentication.ExecCredentialSpec{Interactive: interactive}}
	if cluster {
		cred.Spec.Cluster = &clientauthentication.Cluster{Server: "https://k8s.example.org"}
	}
	data, err := runtime.Encode(codecs.LegacyCodec(gv), cred)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestKubectlAsTheHelper checks that every ExecCredential the cached path
// writes for `oidc-auth kubectl HOST` is the one oidc-auth-core writes,
// byte for byte, for the exec information client-go really sends, and
// that the rest is left to oidc-auth-core.
func TestKubectlAsTheHelper(t *testing.T) {
	now := time.Now().Unix()
	py := member("https://auth.example.org", "tok-K", now+3600, `, "server": {"host": "https://auth.example.org"}`)
	issuer := member("oidc+https://idp.example.org/realms/x?client_id=cli", "tok-I", now+3600, `, "server": {"issuer": "https://idp.example.org/realms/x", "client_id": "cli"}`)
	type kcase struct {
		name, entries, info string
		args                []string
		answers             bool
	}
	var cases []kcase
	for _, v := range []string{helper.ExecAPIv1, helper.ExecAPIv1beta1} {
		for _, interactive := range []bool{false, true} {
			cases = append(cases, kcase{fmt.Sprintf("client-go, %s, interactive %v", v, interactive), py, clientGoExecInfo(t, v, interactive, false), []string{"kubectl", "https://auth.example.org"}, true})
		}
		cases = append(cases, kcase{"client-go with the cluster's details, " + v, py, clientGoExecInfo(t, v, false, true), []string{"kubectl", "https://auth.example.org"}, false})
	}
	cases = append(cases,
		kcase{"run by hand", py, "", []string{"kubectl", "https://auth.example.org"}, true},
		kcase{"a float expiry", `"https://auth.example.org": {"token": {"access_token": "tok-F", "expires": ` + fmt.Sprint(now+3600) + `.75}}`, "", []string{"kubectl", "https://auth.example.org"}, true},
		kcase{"another apiVersion", py, `{"kind":"ExecCredential","apiVersion":"client.authentication.k8s.io/v2","spec":{}}`, []string{"kubectl", "https://auth.example.org"}, false},
		kcase{"other spacing", py, `{"kind": "ExecCredential", "apiVersion": "client.authentication.k8s.io/v1", "spec": {"interactive": false}}`, []string{"kubectl", "https://auth.example.org"}, false},
		kcase{"a flag", py, "", []string{"kubectl", "--access-token", "https://auth.example.org"}, false},
		kcase{"an OpenID Provider's login", issuer, "", []string{"kubectl", "--issuer", "https://idp.example.org/realms/x", "--client-id", "cli"}, false},
		kcase{"no login", py, "", []string{"kubectl", "https://other.example.org"}, false},
		kcase{"expired", member("https://auth.example.org", "tok-E", now-10, ""), "", []string{"kubectl", "https://auth.example.org"}, false},
		kcase{"a token json would escape", member("https://auth.example.org", "tok<&>", now+3600, ""), "", []string{"kubectl", "https://auth.example.org"}, false},
	)
	// An OpenID Provider's login, as `oidc-auth setup kubectl` names it.
	provider := []string{"kubectl", "--issuer", "https://idp.example.org/realms/x", "--client-id", "cli"}
	idp := func(access, refresh int64, idToken, server string) string {
		return fmt.Sprintf(`"oidc+https://idp.example.org/realms/x?client_id=cli": {"token": {"access_token": "tok-A", "expires": %d, "refresh_token": "r", "refresh_expires": %d, "id_token": %q}, "server": %s}`,
			access, refresh, idToken, server)
	}
	idpServer := `{"issuer": "https://idp.example.org/realms/x", "client_id": "cli"}`
	live := jwt(fmt.Sprintf(`{"iss": "https://idp.example.org/realms/x", "sub": "jane", "exp": %d, "aud": ["cli"]}`, now+600))
	parts := strings.Split(live, ".")
	padded := parts[0] + "." + parts[1] + "==." + parts[2]
	cases = append(cases,
		kcase{"a provider's ID token", idp(now+3600, now+7200, live, idpServer), "", provider, true},
		kcase{"a provider's ID token, its access token expired", idp(now-10, now+7200, live, idpServer), clientGoExecInfo(t, helper.ExecAPIv1, false, false), provider, true},
		kcase{"a provider's ID token, a float exp", idp(now+3600, now+7200, jwt(fmt.Sprintf(`{"exp": %d.5}`, now+600)), idpServer), "", provider, true},
		kcase{"a provider's ID token, its payload padded", idp(now+3600, now+7200, padded, idpServer), "", provider, true},
		kcase{"a provider's ID token within the margin", idp(now+3600, now+7200, jwt(fmt.Sprintf(`{"exp": %d}`, now+30)), idpServer), "", provider, false},
		kcase{"a provider's ID token, both other tokens gone", idp(now-100, now-100, live, idpServer), "", provider, false},
		kcase{"a provider's ID token, exp in another case", idp(now+3600, now+7200, jwt(fmt.Sprintf(`{"EXP": %d}`, now+600)), idpServer), "", provider, false},
		kcase{"a provider's ID token, exp a string", idp(now+3600, now+7200, jwt(fmt.Sprintf(`{"exp": "%d"}`, now+600)), idpServer), "", provider, false},
		kcase{"a provider's ID token, no exp", idp(now+3600, now+7200, jwt(`{"sub": "jane"}`), idpServer), "", provider, false},
		kcase{"a provider's ID token, not a JWT", idp(now+3600, now+7200, "abc", idpServer), "", provider, false},
		kcase{"no ID token", idp(now+3600, now+7200, "", idpServer), "", provider, false},
		kcase{"a redirect host off loopback", idp(now+3600, now+7200, live, `{"issuer": "https://idp.example.org/realms/x", "client_id": "cli", "redirect_host": "evil.example.org"}`), "", provider, false},
		kcase{"a plain-http issuer elsewhere", idp(now+3600, now+7200, live, `{"issuer": "http://idp.example.org/realms/x", "client_id": "cli"}`), "", provider, false},
		kcase{"no recorded server", idp(now+3600, now+7200, live, `null`), "", provider, false},
		kcase{"--access-token", idp(now+3600, now+7200, live, idpServer), "", append(provider, "--access-token"), false},
		kcase{"--issuer=URL", idp(now+3600, now+7200, live, idpServer), "", []string{"kubectl", "--issuer=https://idp.example.org/realms/x", "--client-id", "cli"}, false},
	)
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if !readsFiles {
				c.answers = false // oidc-auth-core answers everything here
			}
			setUp(t, scenario{entries: c.entries})
			t.Setenv("KUBERNETES_EXEC_INFO", c.info)
			defer releaseGate()
			var got bytes.Buffer
			answered, err := Kubectl(c.args, &got)
			if err != nil {
				t.Fatal(err)
			}
			if answered != c.answers {
				t.Fatalf("answered = %v, want %v (output %q)", answered, c.answers, got.String())
			}
			if !answered {
				if got.Len() > 0 {
					t.Fatalf("wrote %q without answering", got.String())
				}
				return
			}
			info, err := helper.ParseExecInfo(c.info)
			if err != nil {
				t.Fatal(err)
			}
			// What oidc-auth-core hands kubectl for the login, as it reads
			// it, with no request: an answer that needs one is not the
			// cached path's to give.
			store, err := keyring.Open(keyring.Options{})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			var cfg flows.Config
			var rec *keyring.Record
			if c.args[1] == "--issuer" {
				key, err := flows.IssuerKey(c.args[2], c.args[4])
				if err != nil {
					t.Fatal(err)
				}
				if rec, err = store.Get(ctx, key); err != nil {
					t.Fatal(err)
				}
				cfg = flows.ConfigFromServer(rec.Server)
			} else {
				cfg, rec = flows.StoredConfig(ctx, store, c.args[1])
			}
			if err := cfg.Check(); err != nil {
				t.Fatal(err)
			}
			cfg.HTTPClient = noNetwork(t)
			token, expires, err := helper.KubectlToken(ctx, store, helper.KubectlRequest{Config: cfg, Record: rec,
				Options: flows.Options{Interaction: flows.InteractNever}})
			if err != nil {
				t.Fatalf("oidc-auth-core would not hand out a stored token: %v", err)
			}
			var want bytes.Buffer
			if err := helper.WriteExecCredential(&want, info, token, expires); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("cached path wrote\n%q\noidc-auth-core writes\n%q", got.String(), want.String())
			}
		})
	}
}

// jwt is a JWT of the claims payload (its signature made up).
func jwt(payload string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"RS256"}`)) + "." + base64.RawURLEncoding.EncodeToString([]byte(payload)) + ".c2ln"
}

// noNetwork is an HTTP client whose every request fails the test.
func noNetwork(t *testing.T) *http.Client {
	return &http.Client{Transport: roundTripper(func(r *http.Request) (*http.Response, error) {
		t.Errorf("a request to %s", r.URL.Host)
		return nil, fmt.Errorf("no network here")
	})}
}

type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }
