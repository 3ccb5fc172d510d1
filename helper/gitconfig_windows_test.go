package helper

import (
	"reflect"
	"strings"
	"syscall"
	"testing"
	"unsafe"
)

// TestQuoteArgOnWindows: a command line quoted for Windows splits back
// into the same words as a Windows program (git.exe) reads them,
// through CommandLineToArgvW.
func TestQuoteArgOnWindows(t *testing.T) {
	t.Parallel()
	words := []string{"git", "config", "--file", `C:\Users\Jane Doe\.gitconfig`, "--unset-all", "credential.https://git.example.org/team/.helper", `^say "hi"$`, "", `!f() { test $1 = get; }; f`, `C:\trailing dir\`, `a\"b\\"`}
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = quoteArg(w)
	}
	line := strings.Join(quoted, " ")
	p, err := syscall.UTF16PtrFromString(line)
	if err != nil {
		t.Fatal(err)
	}
	var n int32
	argv, err := syscall.CommandLineToArgv(p, &n)
	if err != nil {
		t.Fatal(err)
	}
	defer syscall.LocalFree(syscall.Handle(uintptr(unsafe.Pointer(argv))))
	got := make([]string, n)
	for i := range got {
		got[i] = syscall.UTF16ToString((*argv[i])[:])
	}
	if !reflect.DeepEqual(got, words) {
		t.Errorf("%s\nsplits into %q, want %q", line, got, words)
	}
}
