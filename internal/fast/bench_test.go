package fast

import (
	"bytes"
	"strconv"
	"testing"
	"time"
)

// BenchmarkGitCached is the work of one cached git get of the small
// command, in process: the config, the token file's entry, the answer.
func BenchmarkGitCached(b *testing.B) {
	sc := scenarios(time.Now().Unix())[0]
	benchGit(b, sc)
}

// BenchmarkGitCachedManyServers is BenchmarkGitCached with a thousand
// [[server]] tables in the config before the one that answers.
func BenchmarkGitCachedManyServers(b *testing.B) {
	sc := scenarios(time.Now().Unix())[0]
	var cfg bytes.Buffer
	for i := range 999 {
		cfg.WriteString("[[server]]\nmatch = \"https://git-" + strconv.Itoa(i) + ".example.org/\"\nhost = \"https://auth-" + strconv.Itoa(i) + ".example.org/api/app\"\n\n")
	}
	sc.config = cfg.String() + sc.config
	benchGit(b, sc)
}

// benchGit times Git on sc's request, in sc's world.
func benchGit(b *testing.B, sc scenario) {
	setUp(b, sc)
	var out bytes.Buffer
	b.ReportAllocs()
	for b.Loop() {
		out.Reset()
		if ok, err := Git([]byte(sc.req), &out); !ok || err != nil {
			b.Fatalf("no answer (%v)", err)
		}
	}
}
