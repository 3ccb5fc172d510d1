package fast

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/client-go/pkg/apis/clientauthentication"
	"k8s.io/client-go/pkg/apis/clientauthentication/install"

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
			// The login as oidc-auth-core reads it, in its ExecCredential.
			store, err := keyring.Open(keyring.Options{})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := store.Get(context.Background(), c.args[1])
			if err != nil || rec == nil {
				t.Fatalf("the store: %v, %v", rec, err)
			}
			var want bytes.Buffer
			if err := helper.WriteExecCredential(&want, info, rec.Token.AccessToken, rec.Token.ExpiresAt()); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Fatalf("cached path wrote\n%q\noidc-auth-core writes\n%q", got.String(), want.String())
			}
		})
	}
}
