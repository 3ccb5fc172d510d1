package helper

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// benchConfig writes a config of n [[server]] entries and returns its path
// and a URL that the middle entry matches.
func benchConfig(b *testing.B, n int) (path, url string) {
	b.Helper()
	var c strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&c, "[[server]]\nmatch = \"https://git%04d.example.org/\"\nhost = \"https://auth%04d.example.org\"\n\n", i, i)
	}
	path = filepath.Join(b.TempDir(), "config.toml")
	if err := os.WriteFile(path, []byte(c.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	return path, fmt.Sprintf("https://git%04d.example.org/team/repo.git", n/2)
}

// BenchmarkLoadConfig measures reading and checking a config of 1 and of
// 1,000 [[server]] entries.
func BenchmarkLoadConfig(b *testing.B) {
	for _, n := range []int{1, 1000} {
		b.Run(fmt.Sprintf("servers=%d", n), func(b *testing.B) {
			path, _ := benchConfig(b, n)
			b.ReportAllocs()
			for b.Loop() {
				c, err := LoadConfig(path)
				if err != nil || len(c.Servers) != n {
					b.Fatal(len(c.Servers), err)
				}
			}
		})
	}
}
