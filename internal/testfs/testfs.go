// Package testfs holds what the tests of several packages share about
// files and systems: probes, so that a test of Unix behaviour on another
// system skips with one reason rather than failing or passing for
// nothing; a reader process that holds a file open, as other programs do
// while oidc-auth replaces it; and a cached login in a token file.
package testfs

import (
	"go/ast"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// RequireSymlinks skips the test unless symbolic links can be made and
// are seen as links here. Windows makes them only with the privilege or
// developer mode, and Wine's os.Symlink reports success while making no
// link at all, so a test of how links are refused would pass for nothing.
func RequireSymlinks(t testing.TB) {
	t.Helper()
	dir := t.TempDir()
	target, link := filepath.Join(dir, "target"), filepath.Join(dir, "link")
	if err := os.WriteFile(target, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(target, link); err != nil {
		t.Skipf("symbolic links cannot be made here (%v); the link checks run where they can", err)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Skipf("os.Symlink reported success on %s but made no link (as under Wine); the link checks run where links exist", runtime.GOOS)
	}
}

// RequireUnixPermissions skips the test where file modes carry no Unix
// permission bits: Windows reports only the read-only attribute as a mode,
// and protects files with access control lists instead.
func RequireUnixPermissions(t testing.TB) {
	t.Helper()
	if runtime.GOOS == "windows" {
		t.Skip("Windows keeps no Unix permission bits (only the read-only attribute); access control lists protect files there")
	}
}

// UnixOnly accounts for the tests of the package in the current directory
// (where go test runs them) that are not built for Windows at all: those in
// files whose build constraint excludes windows (pty, signal and shell
// tests). Each such file must say why in a line "// Unix only: REASON."
// after its build constraint; a file without one fails the test, on every
// system. On Windows, each test of those files is then reported as a
// skipped subtest with its file's reason, so that a run on Windows lists
// every test it did not run and why.
func UnixOnly(t *testing.T) {
	t.Helper()
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.ParseComments)
		if err != nil {
			t.Fatal(err)
		}
		if builtFor(f, name, "windows") {
			continue
		}
		var tests []string
		for _, d := range f.Decls {
			if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv == nil && strings.HasPrefix(fn.Name.Name, "Test") && fn.Name.Name != "TestMain" {
				tests = append(tests, fn.Name.Name)
			}
		}
		if len(tests) == 0 {
			continue // helpers of the tests only
		}
		reason := ""
		for _, g := range f.Comments {
			for _, c := range g.List {
				if r, ok := strings.CutPrefix(c.Text, "// Unix only: "); ok {
					reason = r
				}
			}
		}
		if reason == "" {
			t.Errorf(`%s is not built for Windows and does not say why: add a line "// Unix only: REASON." after its build constraint`, name)
			continue
		}
		if runtime.GOOS != "windows" {
			continue
		}
		for _, test := range tests {
			t.Run(test, func(t *testing.T) {
				t.Skipf("not built for Windows (%s): %s", name, reason)
			})
		}
	}
}

// builtFor reports whether the test file f, named name, is built for goos
// (on amd64): by its _GOOS suffix and its //go:build line.
func builtFor(f *ast.File, name, goos string) bool {
	// A file named x_GOOS_test.go is built for GOOS only (unix and
	// other are no GOOS, and name no constraint).
	base := strings.TrimSuffix(name, "_test.go")
	if i := strings.LastIndex(base, "_"); i >= 0 {
		switch suffix := base[i+1:]; suffix {
		case "aix", "android", "darwin", "dragonfly", "freebsd", "illumos", "ios", "js", "linux", "netbsd", "openbsd", "plan9", "solaris", "wasip1", "windows":
			if suffix != goos {
				return false
			}
		}
	}
	for _, g := range f.Comments {
		if g.Pos() >= f.Package {
			break
		}
		for _, c := range g.List {
			if !constraint.IsGoBuild(c.Text) {
				continue
			}
			expr, err := constraint.Parse(c.Text)
			if err != nil {
				return true
			}
			return expr.Eval(func(tag string) bool {
				return tag == goos || tag == "amd64" || (tag == "unix" && goos != "windows" && goos != "plan9")
			})
		}
	}
	return true
}
