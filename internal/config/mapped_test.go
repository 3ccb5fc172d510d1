package config

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unsafe"

	"github.com/oidc-auth/oidc-auth/internal/testfs"
)

// manyServers is a config of n entries before the one of
// https://git.example.org/team/, with every kind of value in it.
func manyServers(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "[[server]]\nmatch = \"https://git-%04d.example.org/\"\nhost = \"https://auth-%04d.example.org/api/app\"\n\n", i, i)
	}
	b.WriteString("[[server]]\nmatch = \"https://git.example.org/team/\"\nissuer = \"https://idp.example.org/realms/x\"\nclient_id = \"cli\"\n" +
		"client_secret = \"s\"\nscopes = [\"openid\", \"email\"]\naudience = \"api\"\nredirect_host = \"localhost\"\nusername_claim = \"email\"\n" +
		"redirect_ports = [8080, 8081]\nusername = \"u\"\nauth = \"bearer\"\n")
	return b.String()
}

// TestLoadMatchOfAMappedFile checks that a config large enough to be
// mapped answers as LoadConfig and Match do, and that what it returns
// still reads after the mapping is gone.
func TestLoadMatchOfAMappedFile(t *testing.T) {
	content := manyServers(1000)
	if len(content) < mapAbove {
		t.Fatalf("the config has %d bytes, under the %d a file is mapped from", len(content), mapAbove)
	}
	path := filepath.Join(t.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	tg, _ := GitTarget("https", "git.example.org", "team/app.git")
	got, err := LoadMatch(path, tg)
	if err != nil || got == nil {
		t.Fatalf("LoadMatch = %v, %v", got, err)
	}
	c, err := LoadConfig(path)
	if err != nil {
		t.Fatal(err)
	}
	want := c.Match(tg)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("LoadMatch = %+v\nLoadConfig and Match = %+v", *got, *want)
	}
}

// TestDetachedSharesNothing sets every string of a Server (lists and the
// parsed match included) to bytes of one buffer, and checks that none
// of detached's strings and lists is in that buffer: a field added to
// Server and not copied by detached would point into a config file's
// mapping after LoadMatch unmaps it.
func TestDetachedSharesNothing(t *testing.T) {
	buf := []byte(strings.Repeat("x", 4096))
	next := 0
	piece := func() string {
		next += 3
		return unsafe.String(&buf[next-3], 3)
	}
	var s Server
	fill(t, reflect.ValueOf(&s).Elem(), piece)
	d := s.detached()
	inBuf := func(p unsafe.Pointer) bool {
		a := uintptr(p)
		return a >= uintptr(unsafe.Pointer(&buf[0])) && a < uintptr(unsafe.Pointer(&buf[0]))+uintptr(len(buf))
	}
	var check func(path string, v reflect.Value)
	check = func(path string, v reflect.Value) {
		switch v.Kind() {
		case reflect.String:
			if v.Len() > 0 && inBuf(unsafe.Pointer(unsafe.StringData(v.String()))) {
				t.Errorf("%s is not copied by detached", path)
			}
		case reflect.Slice:
			if v.Len() > 0 && v.UnsafePointer() == reflect.ValueOf(s).FieldByName(path).UnsafePointer() {
				t.Errorf("%s shares its list with the original", path)
			}
			for i := range v.Len() {
				check(fmt.Sprintf("%s[%d]", path, i), v.Index(i))
			}
		case reflect.Struct:
			for i := range v.NumField() {
				check(v.Type().Field(i).Name, v.Field(i))
			}
		}
	}
	check("Server", reflect.ValueOf(d))
	if !reflect.DeepEqual(d, s) {
		t.Errorf("detached = %+v, want %+v", d, s)
	}
}

// fill sets every string in v, in structs and lists, to a piece of the
// buffer, and every list to two elements.
func fill(t *testing.T, v reflect.Value, piece func() string) {
	walk(t, v, "detached copies", func(v reflect.Value) {
		if v.Kind() == reflect.String {
			v.SetString(piece())
		}
	})
}

// walk calls set with every string, int and bool in v, in structs and
// lists, unexported fields too, after giving every list two elements. A
// field of another kind fails the test, which then says where to tell
// who how to handle it.
func walk(t *testing.T, v reflect.Value, who string, set func(v reflect.Value)) {
	v = reflect.NewAt(v.Type(), unsafe.Pointer(v.UnsafeAddr())).Elem() // unexported fields too
	switch v.Kind() {
	case reflect.String, reflect.Int, reflect.Bool:
		set(v)
	case reflect.Slice:
		v.Set(reflect.MakeSlice(v.Type(), 2, 2))
		for i := range 2 {
			walk(t, v.Index(i), who, set)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			walk(t, v.Field(i), who, set)
		}
	default:
		t.Fatalf("a field of kind %s: say here how %s it", v.Kind(), who)
	}
}

// TestUnixOnly accounts for the tests not built for Windows.
func TestUnixOnly(t *testing.T) { testfs.UnixOnly(t) }
