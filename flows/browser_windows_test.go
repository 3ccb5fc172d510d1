package flows

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestOpenBrowserRefusesBatchFiles: Windows runs a .bat or .cmd with
// cmd.exe, where an & in the URL (from a provider's discovery document)
// ends the browser's command line and starts one of the provider's
// choosing. Such a browser is not started; the next in the list is.
func TestOpenBrowserRefusesBatchFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ran := filepath.Join(dir, "ran")
	injected := filepath.Join(dir, "injected")
	url := "https://idp.example.org/auth?a=1&echo.>" + injected + "&b=2"
	for _, ext := range []string{".bat", ".cmd"} {
		bat := filepath.Join(dir, "browser"+ext)
		if err := os.WriteFile(bat, []byte("@echo off\r\necho.>"+ran+"\r\n"), 0o700); err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{bat, strings.TrimSuffix(bat, ext)} {
			if ext == ".cmd" && name != bat {
				continue // browser without an extension finds browser.bat first
			}
			err := tryOpenBrowser(fakeEnv("windows", map[string]string{"BROWSER": name}, nil, nil), url)
			if err == nil || !strings.Contains(err.Error(), "is a batch file") {
				t.Errorf("BROWSER=%s: %v, want a refusal of the batch file", name, err)
			}
		}
		os.Remove(bat)
	}
	for _, p := range []string{ran, injected} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists: the batch file ran", p)
		}
	}

	bat := filepath.Join(dir, "browser.bat")
	if err := os.WriteFile(bat, nil, 0o700); err != nil {
		t.Fatal(err)
	}
	list := bat + ";" + fakeBrowserCommand(t, dir, "starts")
	if err := tryOpenBrowser(fakeEnv("windows", map[string]string{"BROWSER": list}, nil, nil), url); err != nil {
		t.Errorf("BROWSER=%s: %v, want the program after the batch file started", list, err)
	}
}
