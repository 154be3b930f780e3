package repocli

import (
	"strings"
	"testing"
	"time"
)

func TestFormatMode(t *testing.T) {
	for _, tc := range []struct {
		name string
		typ  byte
		mode uint32
		want string
	}{
		{"file 0644", '-', 0o644, "-rw-r--r--"},
		{"dir 0750", 'd', 0o750, "drwxr-x---"},
		{"setuid exec", '-', 0o4755, "-rwsr-xr-x"},
		{"setgid no exec", '-', 0o2644, "-rw-r-Sr--"},
		{"sticky dir", 'd', 0o1777, "drwxrwxrwt"},
		{"sticky no exec", 'd', 0o1776, "drwxrwxrwT"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := formatMode(tc.typ, tc.mode); got != tc.want {
				t.Errorf("formatMode(%c, %o) = %q, want %q", tc.typ, tc.mode, got, tc.want)
			}
		})
	}
}

func TestFormatBytes(t *testing.T) {
	for _, tc := range []struct {
		in   int64
		want string
	}{{0, "0 B"}, {1023, "1023 B"}, {1024, "1.0 KiB"}, {1536, "1.5 KiB"}, {5 << 20, "5.0 MiB"}, {3 << 40, "3.0 TiB"}} {
		if got := formatBytes(tc.in); got != tc.want {
			t.Errorf("formatBytes(%d) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestProgressRender(t *testing.T) {
	start := time.Unix(1000, 0)
	p := &progressLine{label: "backup", start: start}
	line := p.render(start.Add(2*time.Second), 100<<20, 400<<20)
	for _, want := range []string{"backup 100.0 MiB / 400.0 MiB (25%)", "50.0 MiB/s", "ETA 6s", "2s"} {
		if !strings.Contains(line, want) {
			t.Errorf("render = %q, lacks %q", line, want)
		}
	}
	// Past the window the rate follows recent progress, not the average.
	for i := 3; i <= 10; i++ {
		line = p.render(start.Add(time.Duration(i)*time.Second), 100<<20+int64(i-2)*(10<<20), 400<<20)
	}
	if !strings.Contains(line, "10.0 MiB/s") {
		t.Errorf("render after slowing down = %q, want 10.0 MiB/s", line)
	}
	if line := p.render(start.Add(11*time.Second), 5, 0); strings.Contains(line, "ETA") || strings.Contains(line, "%") {
		t.Errorf("render without a total = %q", line)
	}
}
