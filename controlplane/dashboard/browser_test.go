package dashboard_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/controlplane/testenv"
)

// Debian's Chromium, headless, loads each page against the real API
// server, sees a live update arrive without a reload, and reads a page
// with JavaScript disabled. Screenshots go to the artifacts directory.
func TestInABrowser(t *testing.T) {
	f := start(t)
	ctx := browser(t)
	shots := artifacts(t)
	t.Run("overview renders and goes live", func(t *testing.T) {
		nav(t, ctx, f.base+"/")
		waitText(t, ctx, "b-running", "1.0 GiB / 4.0 GiB (25%)", "Failures in the last 24 hours", "b-partial", "nightly", "offsite")
		waitJS(t, ctx, `document.getElementById("live").textContent === "live"`)
		shot(t, ctx, shots, "overview.png")
	})
	t.Run("a live update arrives without a reload", func(t *testing.T) {
		// A reload would lose this mark.
		run(t, ctx, chromedp.Evaluate[bool](`window.cairnMark = true`))
		f.setWork(t, "b-running-data", func(st *v1alpha1.WorkStatus) { st.Progress.BytesDone = 3 << 30 })
		f.setBackupFailed(t, "b-collecting", "the API server refused the snapshot: quota exceeded")
		waitText(t, ctx, "3.0 GiB / 4.0 GiB (75%)", "the API server refused the snapshot: quota exceeded")
		if !run(t, ctx, chromedp.Evaluate[bool](`window.cairnMark === true`)) {
			t.Fatal("the page was reloaded")
		}
		shot(t, ctx, shots, "overview-updated.png")
	})
	for _, p := range []struct{ path, file string }{
		{"/backups/" + f.ns + "/b-done", "backup.png"},
		{"/backups/" + f.ns + "/b-running", "backup-running.png"},
		{"/restores/" + f.ns + "/r-done", "restore.png"},
		{"/locations/" + f.ns + "/default", "location.png"},
		{"/schedules/" + f.ns + "/nightly", "schedule.png"},
	} {
		t.Run(p.path, func(t *testing.T) {
			nav(t, ctx, f.base+p.path)
			waitText(t, ctx, pageWants(p.file)...)
			shot(t, ctx, shots, p.file)
		})
	}
	t.Run("a page works without JavaScript", func(t *testing.T) {
		tab, cancel := chromedp.NewContext(ctx)
		defer cancel()
		run(t, tab, chromedp.Evaluate[bool](`true`)) // opens the tab
		if _, err := chromedp.Call(tab, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
			t.Fatal(err)
		}
		nav(t, tab, f.base+"/backups/"+f.ns+"/b-done")
		body := run(t, tab, chromedp.Text(chromedp.CSS("body")))
		for _, want := range []string{"Backup b-done", "shop/data", "node-a", "768 MiB", "freeze window of 1.2s closed", "Without JavaScript this page reloads"} {
			if !strings.Contains(body, want) {
				t.Errorf("without JavaScript the page lacks %q:\n%s", want, body)
			}
		}
		if hidden := run(t, tab, chromedp.Evaluate[bool](`document.getElementById("live").hidden`)); !hidden {
			t.Error("the live badge shows although no script ran")
		}
		shot(t, tab, shots, "backup-no-javascript.png")
	})
}

func pageWants(file string) []string {
	return map[string][]string{
		"backup.png":         {"Backup b-done", "shop/db-creds", "volume shop/data: Completed via snapshot-move", "75%"},
		"backup-running.png": {"Backup b-running", "WaitingForVolumes", "shop/logs"},
		"restore.png":        {"Restore r-done", "admission webhook denied it"},
		"location.png":       {"Location default", "Dedup ratio", "Compression ratio"},
		"schedule.png":       {"Schedule nightly", "Backup size", "Backup duration"},
	}[file]
}

// browser starts Debian's Chromium, headless, with a fresh profile. A
// missing browser fails the test: CI installs it (scripts/install-tools.sh).
func browser(t *testing.T) context.Context {
	t.Helper()
	path := os.Getenv("CAIRN_CHROMIUM")
	if path == "" {
		var err error
		if path, err = exec.LookPath("chromium"); err != nil {
			t.Fatal("Debian's chromium is not installed: run `make tools` (scripts/install-tools.sh installs it with apt-get), or set CAIRN_CHROMIUM")
		}
	}
	opts := []chromedp.ExecAllocatorOption{chromedp.ExecPath(path), chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1400, 1000)}
	for _, flag := range []string{"headless", "no-sandbox", "disable-gpu", "disable-background-networking",
		"disable-component-update", "disable-sync", "no-first-run", "disable-dev-shm-usage"} {
		opts = append(opts, chromedp.Flag(flag, true))
	}
	actx, stopBrowser := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(stopBrowser)
	ctx, closeTab := chromedp.NewContext(actx)
	t.Cleanup(closeTab)
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// artifacts is where screenshots go: $CAIRN_TEST_ARTIFACTS, else
// .cache/test-artifacts under the module (git-ignored).
func artifacts(t *testing.T) string {
	dir := os.Getenv("CAIRN_TEST_ARTIFACTS")
	if dir == "" {
		root, err := testenv.ModuleRoot()
		if err != nil {
			t.Fatal(err)
		}
		dir = filepath.Join(root, ".cache", "test-artifacts")
	}
	dir = filepath.Join(dir, "dashboard")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func run[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func nav(t *testing.T, ctx context.Context, url string) {
	t.Helper()
	if err := chromedp.Do(ctx, chromedp.Navigate(url)); err != nil {
		t.Fatalf("open %s: %v", url, err)
	}
}

// waitText waits until the page's text holds every want.
func waitText(t *testing.T, ctx context.Context, want ...string) {
	t.Helper()
	var conds []string
	for _, w := range want {
		conds = append(conds, "document.body.innerText.includes("+strconv.Quote(w)+")")
	}
	expr := strings.Join(conds, " && ")
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("the page never showed %q: %v\n%s", want, err, body)
	}
}

func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("%s never held: %v", expr, err)
	}
}

func shot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	png := run(t, ctx, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", filepath.Join(dir, name))
}

// setBackupFailed fails a backup, as its controller would.
func (f *fixture) setBackupFailed(t *testing.T, name, why string) {
	t.Helper()
	var b v1alpha1.Backup
	if err := f.c.Get(context.Background(), client.ObjectKey{Namespace: f.ns, Name: name}, &b); err != nil {
		t.Fatal(err)
	}
	b.Status.Phase, b.Status.Errors, b.Status.CompletionTime = v1alpha1.BackupFailed, []string{why}, f.ago(0)
	if err := f.c.Status().Update(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
}
