package pyauthserver_test

import (
	"fmt"
	"io"
	"net/http"
	"net/url"

	"github.com/oidc-auth/oidc-auth/integration/pyauthserver"
)

// Example runs a device flow that the user denies after one pending poll.
func Example() {
	s := pyauthserver.New(pyauthserver.Options{Interval: 1})
	defer s.Close()
	s.PlanDevice(pyauthserver.DevicePlan{Pending: 1, Outcome: pyauthserver.Deny})

	if _, err := http.PostForm(s.URL()+"/auth/v2/device", nil); err != nil {
		fmt.Println(err)
		return
	}
	deviceCode, _ := s.LastDevice()
	for range 2 {
		resp, err := http.PostForm(s.URL()+"/auth/v2/token", url.Values{"device-code": {deviceCode}})
		if err != nil {
			fmt.Println(err)
			return
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		fmt.Println(resp.StatusCode, string(body))
	}
	fmt.Println("polls:", s.Count(pyauthserver.CountTokenDevice))
	// Output:
	// 400 {"detail":"Upstream OIDC error: {\"error\":\"authorization_pending\"}"}
	// 400 {"detail":"Upstream OIDC error: {\"error\":\"access_denied\",\"error_description\":\"The end-user denied the authorization request\"}"}
	// polls: 2
}
