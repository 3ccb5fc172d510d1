package flows

import (
	"errors"
	"fmt"
	"io/fs"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

// browserFailWait is how long OpenBrowser watches a started browser
// command for an early failure: an opener that finds no browser
// (xdg-open without a desktop, $BROWSER=false) exits at once with an
// error, while a browser that opened keeps running or exits 0.
const browserFailWait = time.Second

// OpenBrowser starts the person's browser at url without waiting for it. It
// honours $BROWSER (a list of commands separated like PATH; "%s" in a command
// stands for the URL, else the URL is its last argument), then falls back to
// the platform's opener (wslview under WSL, xdg-open, open, or rundll32 on
// Windows). A command that exits with an error within a second counts as
// failed, and the next one is tried; so does, on Windows, a batch file,
// since cmd.exe would act on the URL's & and %. The browser's output is discarded so
// that it never reaches a protocol stream.
func OpenBrowser(url string) error {
	return openBrowser(Environment{}, url, nil)
}

// openBrowser is OpenBrowser in env; a receive from visited (the page was
// requested) ends the watch for an early failure at once.
func openBrowser(env Environment, url string, visited <-chan struct{}) error {
	cmds := browserCommands(env, url)
	var firstErr error
	for _, argv := range cmds {
		err := startBrowser(argv, visited)
		if err == nil {
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return firstErr
}

// browserCommands returns the commands that may open url in env, in the
// order to try them: those of $BROWSER, else the platform's opener. On
// Windows that is rundll32, which hands its argument to the URL handler
// as it is: no cmd.exe sees the URL, so its & and ^ stay the URL's.
func browserCommands(env Environment, url string) [][]string {
	var cmds [][]string
	for _, c := range filepath.SplitList(env.getenv("BROWSER")) {
		if f := strings.Fields(c); len(f) > 0 {
			cmds = append(cmds, withURL(f, url))
		}
	}
	if len(cmds) > 0 {
		return cmds
	}
	switch env.goos() {
	case "darwin":
		return [][]string{{"open", url}}
	case "windows":
		return [][]string{{"rundll32", "url.dll,FileProtocolHandler", url}}
	}
	if env.wsl() {
		cmds = append(cmds, []string{"wslview", url})
	}
	return append(cmds, []string{"xdg-open", url})
}

// startBrowser starts one browser command and watches it for
// browserFailWait, or until visited, for an exit with an error.
func startBrowser(argv []string, visited <-chan struct{}) error {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = nil, nil, nil
	if runtime.GOOS == "windows" && isBatchFile(resolved(cmd.Path)) {
		return fmt.Errorf("flows: the browser %q is a batch file, which Windows runs with cmd.exe, where the URL's & and %% would be commands and variables; put a program (.exe) in BROWSER, or open the URL shown", argv[0])
	}
	if err := cmd.Start(); err != nil {
		// The command's name is said once: not again in exec's own words.
		cause := err
		var ee *exec.Error
		var pe *fs.PathError
		if errors.As(err, &ee) {
			cause = ee.Err
		} else if errors.As(err, &pe) {
			cause = pe.Err
		}
		return fmt.Errorf("flows: cannot start the browser %q: %w", argv[0], cause)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }() // reaps it whenever it ends
	t := time.NewTimer(browserFailWait)
	defer t.Stop()
	select {
	case err := <-exited:
		if err != nil {
			return fmt.Errorf("flows: the browser %q failed: %v", argv[0], err)
		}
	case <-visited:
	case <-t.C:
	}
	return nil
}

// isBatchFile reports whether path is a Windows batch file (.bat, .cmd),
// which CreateProcess hands to cmd.exe: Go's quoting of arguments is not
// cmd.exe's, so an & in the URL would end the command and start another,
// and %NAME% would expand.
func isBatchFile(path string) bool {
	ext := filepath.Ext(path)
	return strings.EqualFold(ext, ".bat") || strings.EqualFold(ext, ".cmd")
}

// resolved is the file Windows runs for path: with the extension from
// PATHEXT that path may leave out.
func resolved(path string) string {
	if lp, err := exec.LookPath(path); err == nil {
		return lp
	}
	return path
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
