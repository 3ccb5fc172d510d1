package version

import (
	"runtime/debug"
	"testing"
)

func TestFromBuildInfo(t *testing.T) {
	t.Parallel()
	settings := func(kv ...string) []debug.BuildSetting {
		var out []debug.BuildSetting
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	tests := []struct {
		name string
		bi   *debug.BuildInfo
		want string
	}{
		{"go install of a release", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"release with vcs settings too", &debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}, Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "false")}, "v1.2.3"},
		{"pseudo-version of a checkout", &debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201101500-0123456789ab+dirty"}}, "v0.0.0-20261201101500-0123456789ab+dirty"},
		{"devel with revision", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.revision", "0123456789abcdef0123", "vcs.modified", "false")}, "devel 0123456789ab"},
		{"devel with changes", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: settings("vcs.modified", "true", "vcs.revision", "0123456789abcdef0123")}, "devel 0123456789ab+dirty"},
		{"devel without vcs", &debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "dev"},
		{"no version at all", &debug.BuildInfo{}, "dev"},
		{"nil", nil, "dev"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FromBuildInfo(tt.bi); got != tt.want {
				t.Errorf("FromBuildInfo = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestStringOverride(t *testing.T) {
	t.Parallel()
	if got := String("v9.9.9"); got != "v9.9.9" {
		t.Errorf("String(v9.9.9) = %q", got)
	}
	// A test binary has build info; its main module is the test's.
	if got := String(""); got == "" {
		t.Error("String(\"\") is empty")
	}
}
