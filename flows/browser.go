package flows

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// OpenBrowser starts the person's browser at url without waiting for it. It
// honours $BROWSER (a list of commands separated like PATH; "%s" in a command
// stands for the URL, else the URL is its last argument), then falls back to
// the platform's opener (xdg-open, open, or rundll32 on Windows). The
// browser's output is discarded so that it never reaches a protocol stream.
func OpenBrowser(url string) error {
	var cmds [][]string
	for _, c := range filepath.SplitList(os.Getenv("BROWSER")) {
		if f := strings.Fields(c); len(f) > 0 {
			cmds = append(cmds, withURL(f, url))
		}
	}
	if len(cmds) == 0 {
		switch runtime.GOOS {
		case "darwin":
			cmds = append(cmds, []string{"open", url})
		case "windows":
			cmds = append(cmds, []string{"rundll32", "url.dll,FileProtocolHandler", url})
		default:
			cmds = append(cmds, []string{"xdg-open", url})
		}
	}
	var firstErr error
	for _, argv := range cmds {
		cmd := exec.Command(argv[0], argv[1:]...)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
		if err := cmd.Start(); err != nil {
			if firstErr == nil {
				firstErr = fmt.Errorf("flows: cannot start the browser %q: %w", argv[0], err)
			}
			continue
		}
		go cmd.Wait() // reap it whenever it ends
		return nil
	}
	return firstErr
}

// withURL puts url into a browser command: in place of each "%s", or as the
// last argument.
func withURL(argv []string, url string) []string {
	out := make([]string, 0, len(argv)+1)
	found := false
	for _, a := range argv {
		if strings.Contains(a, "%s") {
			a = strings.ReplaceAll(a, "%s", url)
			found = true
		}
		out = append(out, a)
	}
	if !found {
		out = append(out, url)
	}
	return out
}
