package registry_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"

	"github.com/oidc-auth/oidc-auth/integration/registry"
)

// aliceOnly accepts alice with password s3cret.
func aliceOnly(username, password string) bool {
	return username == "alice" && password == "s3cret"
}

// pull fetches repo:tag from srv with auth and returns the manifest digest.
func pull(t *testing.T, srv *registry.Server, repo, tag string, auth authn.Authenticator) (string, error) {
	t.Helper()
	ref, err := name.ParseReference(srv.Ref(repo, tag), name.StrictValidation)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	img, err := remote.Image(ref, remote.WithAuth(auth), remote.WithContext(ctx))
	if err != nil {
		return "", err
	}
	// Fetch the layers too, so that blob requests are authenticated as well.
	layers, err := img.Layers()
	if err != nil {
		return "", err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return "", err
		}
		rc.Close()
	}
	d, err := img.Digest()
	return d.String(), err
}

// statusOf returns the HTTP status of a go-containerregistry transport
// error, or 0.
func statusOf(err error) int {
	var te *transport.Error
	if errors.As(err, &te) {
		return te.StatusCode
	}
	return 0
}

func TestHost(t *testing.T) {
	t.Parallel()
	srv := registry.New(t, registry.Options{})
	host := srv.Host()
	if _, err := name.NewRegistry(host, name.StrictValidation); err != nil {
		t.Errorf("Host() = %q is not a registry name: %v", host, err)
	}
	if want := "http://" + host; srv.URL() != want {
		t.Errorf("URL() = %q, want %q", srv.URL(), want)
	}
	if got := srv.Ref("a/b", "v1"); got != host+"/a/b:v1" {
		t.Errorf("Ref = %q", got)
	}
	if port, ok := strings.CutPrefix(host, "127.0.0.1:"); !ok || port == "" {
		t.Errorf("Host() = %q, want 127.0.0.1:PORT", host)
	}
}

func TestPullWithCredentials(t *testing.T) {
	t.Parallel()
	srv := registry.New(t, registry.Options{Check: aliceOnly})
	want := srv.Push(t, "team/app", "v1")
	if got := srv.Requests(); len(got) != 0 {
		t.Fatalf("Push was logged: %+v", got)
	}

	got, err := pull(t, srv, "team/app", "v1", authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"}))
	if err != nil {
		t.Fatalf("pull with the right credentials: %v", err)
	}
	if got != want.String() {
		t.Errorf("pulled digest %s, want the pushed %s", got, want)
	}

	reqs := srv.Requests()
	if len(reqs) < 3 {
		t.Fatalf("log %+v, want at least the ping, the manifest and a blob", reqs)
	}
	var authed, manifest, blob bool
	for _, r := range reqs {
		switch {
		case !r.HadAuth:
			// go-containerregistry pings /v2/ without credentials to learn the challenge.
			if r.Path != "/v2/" || r.Status != http.StatusUnauthorized || r.Username != "" || r.Password != "" {
				t.Errorf("unauthenticated request %+v, want only the 401 ping of /v2/", r)
			}
		case r.Username == "alice" && r.Password == "s3cret":
			authed = true
			if r.Status >= 400 {
				t.Errorf("authenticated request %+v failed", r)
			}
			manifest = manifest || r.Path == "/v2/team/app/manifests/v1"
			blob = blob || strings.HasPrefix(r.Path, "/v2/team/app/blobs/sha256:")
		default:
			t.Errorf("unexpected request %+v", r)
		}
	}
	if !authed || !manifest || !blob {
		t.Errorf("log %+v lacks authenticated manifest (%v) and blob (%v) requests", reqs, manifest, blob)
	}
}

func TestRejected(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name  string
		check func(string, string) bool
		auth  authn.Authenticator
		user  string
		pass  string
	}{
		{"wrong password", aliceOnly, authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "wrong"}), "alice", "wrong"},
		{"wrong user", aliceOnly, &authn.Basic{Username: "bob", Password: "s3cret"}, "bob", "s3cret"},
		{"anonymous", aliceOnly, authn.Anonymous, "", ""},
		{"nil check", nil, authn.FromConfig(authn.AuthConfig{Username: "alice", Password: "s3cret"}), "alice", "s3cret"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := registry.New(t, registry.Options{Check: tc.check})
			srv.Push(t, "app", "latest")
			_, err := pull(t, srv, "app", "latest", tc.auth)
			if statusOf(err) != http.StatusUnauthorized {
				t.Fatalf("pull: %v, want a 401 transport error", err)
			}
			reqs := srv.Requests()
			if len(reqs) == 0 {
				t.Fatal("empty log")
			}
			last := reqs[len(reqs)-1]
			if last.Status != http.StatusUnauthorized || last.Username != tc.user || last.Password != tc.pass || last.HadAuth != (tc.user != "") {
				t.Errorf("last request %+v, want 401 with %q/%q", last, tc.user, tc.pass)
			}
			for _, r := range reqs {
				if r.Status != http.StatusUnauthorized {
					t.Errorf("request %+v got through", r)
				}
			}
		})
	}
}

func TestChallenge(t *testing.T) {
	t.Parallel()
	srv := registry.New(t, registry.Options{Check: aliceOnly})
	client := &http.Client{Timeout: 10 * time.Second}
	for _, tc := range []struct {
		name       string
		user, pass string
		basic      bool
		bearer     string
		want       int
	}{
		{name: "none", want: http.StatusUnauthorized},
		{name: "bearer", bearer: "s3cret", want: http.StatusUnauthorized},
		{name: "wrong", user: "alice", pass: "nope", basic: true, want: http.StatusUnauthorized},
		{name: "right", user: "alice", pass: "s3cret", basic: true, want: http.StatusOK},
	} {
		req, err := http.NewRequest(http.MethodGet, srv.URL()+"/v2/", nil)
		if err != nil {
			t.Fatal(err)
		}
		if tc.basic {
			req.SetBasicAuth(tc.user, tc.pass)
		}
		if tc.bearer != "" {
			req.Header.Set("Authorization", "Bearer "+tc.bearer)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
		wantChallenge := ""
		if tc.want == http.StatusUnauthorized {
			wantChallenge = `Basic realm="registry"`
		}
		if got := resp.Header.Get("WWW-Authenticate"); got != wantChallenge {
			t.Errorf("%s: WWW-Authenticate %q, want %q", tc.name, got, wantChallenge)
		}
	}
	reqs := srv.Requests()
	want := []registry.Request{
		{Method: "GET", Path: "/v2/", Status: 401},
		{Method: "GET", Path: "/v2/", HadAuth: true, Status: 401},
		{Method: "GET", Path: "/v2/", Username: "alice", Password: "nope", HadAuth: true, Status: 401},
		{Method: "GET", Path: "/v2/", Username: "alice", Password: "s3cret", HadAuth: true, Status: 200},
	}
	if len(reqs) != len(want) {
		t.Fatalf("log %+v, want %+v", reqs, want)
	}
	for i := range want {
		if reqs[i] != want[i] {
			t.Errorf("request %d = %+v, want %+v", i, reqs[i], want[i])
		}
	}
}
