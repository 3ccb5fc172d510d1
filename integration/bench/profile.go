package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"
)

// initEntry is one line of GODEBUG=inittrace=1:
//
//	init github.com/x/y @0.51 ms, 0.74 ms clock, 123456 bytes, 762 allocs
type initEntry struct {
	pkg    string
	clock  float64 // ms
	bytes  int64
	allocs int64
}

// parseInittrace reads the init lines of a program's stderr.
func parseInittrace(stderr string) []initEntry {
	var list []initEntry
	for _, l := range strings.Split(stderr, "\n") {
		f := strings.Fields(l)
		// init PKG @T ms, C ms clock, B bytes, A allocs
		if len(f) != 11 || f[0] != "init" || f[6] != "clock," {
			continue
		}
		c, err1 := strconv.ParseFloat(f[4], 64)
		by, err2 := strconv.ParseInt(f[7], 10, 64)
		a, err3 := strconv.ParseInt(f[9], 10, 64)
		if err1 != nil || err2 != nil || err3 != nil {
			continue
		}
		list = append(list, initEntry{pkg: f[1], clock: c, bytes: by, allocs: a})
	}
	return list
}

// profileGet adds to the details where one cached get spends its time:
// package init (GODEBUG=inittrace=1), perf stat's task clock and page
// faults, the rusage of the child, and strace -f -c's system calls.
func (b *bench) profileGet(h *home, bin, query string) {
	progress("-- profile of one cached get")
	d := &b.detail
	fmt.Fprintf(d, "### Profile of one cached `git-credential-oidc get` (static build)\n\n")

	// package init
	cmd := exec.CommandContext(b.ctx, bin, "get")
	cmd.Env = append(append([]string(nil), h.env...), "GODEBUG=inittrace=1")
	cmd.Stdin = strings.NewReader(gitQueryText(query))
	var errb bytes.Buffer
	cmd.Stderr = &errb
	if err := cmd.Run(); err != nil {
		fmt.Fprintf(d, "inittrace run failed: %v\n\n", err)
	} else {
		list := parseInittrace(errb.String())
		var clock float64
		var allocs, by int64
		for _, e := range list {
			clock += e.clock
			allocs += e.allocs
			by += e.bytes
		}
		sort.Slice(list, func(i, j int) bool { return list[i].clock > list[j].clock })
		fmt.Fprintf(d, "Package init (`GODEBUG=inittrace=1`): %d packages, %.2f ms clock in all, %d allocations, %d bytes. The 15 slowest:\n\n| package | ms clock | bytes | allocs |\n|---|---|---|---|\n", len(list), clock, allocs, by)
		for i, e := range list {
			if i == 15 {
				break
			}
			fmt.Fprintf(d, "| %s | %.3f | %d | %d |\n", e.pkg, e.clock, e.bytes, e.allocs)
		}
		d.WriteString("\n")
	}

	// package init of each entry point
	fmt.Fprintf(d, "Package init of each cached entry point:\n\n| command | packages | ms clock | allocs | bytes | slowest three |\n|---|---|---|---|---|---|\n")
	for _, c := range []struct {
		name, bin string
		args      []string
		stdin     string
	}{
		{"git-credential-oidc get", bin, []string{"get"}, gitQueryText(query)},
		{"docker-credential-oidc get", h.binDir + "/docker-credential-oidc", []string{"get"}, registry},
		{"oidc-auth token HOST", h.binDir + "/oidc-auth", []string{"token", h.srv.URL()}, ""},
	} {
		cmd := exec.CommandContext(b.ctx, c.bin, c.args...)
		cmd.Env = append(append([]string(nil), h.env...), "GODEBUG=inittrace=1")
		cmd.Stdin = strings.NewReader(c.stdin)
		var eb bytes.Buffer
		cmd.Stderr = &eb
		if err := cmd.Run(); err != nil {
			fmt.Fprintf(d, "| %s | failed: %v | | | | |\n", c.name, err)
			continue
		}
		list := parseInittrace(eb.String())
		var clock float64
		var allocs, by int64
		for _, e := range list {
			clock += e.clock
			allocs += e.allocs
			by += e.bytes
		}
		sort.Slice(list, func(i, j int) bool { return list[i].clock > list[j].clock })
		var top []string
		for i := 0; i < len(list) && i < 3; i++ {
			top = append(top, fmt.Sprintf("%s %.2f", list[i].pkg, list[i].clock))
		}
		fmt.Fprintf(d, "| %s | %d | %.2f | %d | %d | %s |\n", c.name, len(list), clock, allocs, by, strings.Join(top, ", "))
	}
	d.WriteString("\n")

	// /usr/bin/time -v: the child's own rusage (a child of this program
	// would count this program's RSS too, see peakRSS)
	cmd = exec.CommandContext(b.ctx, "/usr/bin/time", "-v", bin, "get")
	cmd.Env = h.env
	cmd.Stdin = strings.NewReader(gitQueryText(query))
	errb.Reset()
	cmd.Stderr = &errb
	if err := cmd.Run(); err == nil {
		var keep []string
		for _, l := range strings.Split(errb.String(), "\n") {
			for _, k := range []string{"Maximum resident", "page faults", "context switches", "User time", "System time"} {
				if strings.Contains(l, k) {
					keep = append(keep, strings.TrimSpace(l))
				}
			}
		}
		fmt.Fprintf(d, "`/usr/bin/time -v`:\n\n```\n%s\n```\n\n", strings.Join(keep, "\n"))
	}

	// perf stat, strace -c
	for _, t := range []struct {
		title string
		tool  string
		args  []string
	}{
		{"perf stat", "perf", []string{"stat", "-r", "20", "-e", "task-clock,page-faults,context-switches,cpu-migrations", "--", "sh", "-c", bin + " get < " + query}},
		{"perf stat of the shell alone (to subtract)", "perf", []string{"stat", "-r", "20", "-e", "task-clock,page-faults,context-switches,cpu-migrations", "--", "sh", "-c", "true < " + query}},
		{"perf stat of the static hello world (the floor of a Go process)", "perf", []string{"stat", "-r", "20", "-e", "task-clock,page-faults,context-switches,cpu-migrations", "--", "sh", "-c", b.hello + " < " + query}},
		{"strace -f -c", "strace", []string{"-f", "-c", "-o", "/dev/stderr", bin, "get"}},
	} {
		if _, err := exec.LookPath(t.tool); err != nil {
			fmt.Fprintf(d, "%s: %s is not installed (apt-get install %s)\n\n", t.title, t.tool, map[string]string{"perf": "linux-perf", "strace": "strace"}[t.tool])
			continue
		}
		cmd := exec.CommandContext(b.ctx, t.tool, t.args...)
		cmd.Env = h.env
		if t.tool == "strace" {
			f, err := os.Open(query)
			if err != nil {
				continue
			}
			cmd.Stdin = f
			defer f.Close()
		}
		var out bytes.Buffer
		cmd.Stderr = &out
		err := cmd.Run()
		fmt.Fprintf(d, "%s:\n\n```\n%s```\n\n", t.title, strings.TrimLeft(out.String(), "\n"))
		if err != nil {
			fmt.Fprintf(d, "(%s failed: %v)\n\n", t.tool, err)
		}
	}
}

// gitQueryText is the content of the query file at path.
func gitQueryText(path string) string {
	raw, _ := os.ReadFile(path)
	return string(raw)
}
