package dashboard_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// Every page renders from the cache what the objects hold, in every phase,
// and what the repository holds once the background reads are done.
func TestPages(t *testing.T) {
	f := start(t)
	t.Run("overview", func(t *testing.T) {
		body := f.eventually(t, "/",
			// running, with live progress per volume: bytes, rate, ETA
			`data-run="backup/b-running"`, "shop/data", "1.0 GiB / 4.0 GiB (25%)", "100 MiB/s", "ETA 31s", "node-a",
			`data-run="backup/b-collecting"`, `data-run="backup/b-new"`, `data-run="restore/r-running"`, "shop-copy/data",
			// failures of the last 24 hours, and not older ones
			"b-partial", "volume shop/cache was not backed up", "b-failed", "location offsite is unavailable", "r-done",
			// schedules and their health
			`data-schedule="nightly"`, "healthy", "in 20h", "no recent success", "paused",
			// locations and their availability
			`data-location="default"`, "Available", `data-location="offsite"`, "Unavailable", "the endpoint does not answer")
		failures := section(body, `id="failures"`, `id="schedules"`)
		if strings.Contains(failures, "b-old-failure") || strings.Contains(body, `data-run="backup/b-deleting"`) {
			t.Errorf("overview lists an old failure as recent or a deleting backup as running:\n%s", body)
		}
	})
	t.Run("backup", func(t *testing.T) {
		f.eventually(t, "/backups/"+f.ns+"/b-done",
			"Completed", "nightly", "snapshot-move", "(full)", "node-a", "3.0 GiB", "768 MiB", "512 MiB", "75%", "3m0s",
			"FreezeWindowClosed", "freeze window of 1.2s closed", "freeze-db", "changed-block reads unavailable",
			// read from the repository in the background: the item names and the log
			"secrets", "shop/db-creds", "deployments.apps", "shop/web", "configmaps", "3 objects in the resources snapshot",
			"volume shop/data: Completed via snapshot-move")
	})
	t.Run("running backup", func(t *testing.T) {
		f.eventually(t, "/backups/"+f.ns+"/b-running", "WaitingForVolumes", "shop/logs", "Pending", "1.0 GiB / 4.0 GiB (25%)")
	})
	t.Run("restore", func(t *testing.T) {
		f.eventually(t, "/restores/"+f.ns+"/r-done", "PartiallyFailed", "2 created, 0 updated, 0 skipped, 1 failed",
			"admission webhook denied it", "shop → shop-copy", `href="/backups/`+f.ns+`/b-done"`)
		f.eventually(t, "/restores/"+f.ns+"/r-running", "node-b", "512 MiB / 3.0 GiB (16%)", "200 MiB/s")
	})
	t.Run("location", func(t *testing.T) {
		f.eventually(t, "/locations/"+f.ns+"/default", "Available", "Secret repo-password, key password",
			`id="repo-size"`, `id="repo-snapshots">1,`, `id="repo-dedup"`, `id="repo-compression"`, "b-done", "nightly-3")
		f.eventually(t, "/locations/"+f.ns+"/offsite", "Unavailable", "Secret s3-creds", "https://s3.offsite.example",
			"only an available location is measured")
	})
	t.Run("schedule chart", func(t *testing.T) {
		body := f.eventually(t, "/schedules/"+f.ns+"/nightly", "Backup size", "Backup duration", "<svg", "<polyline",
			"keep 7 daily", "nightly-1: 1.0 GiB", "nightly-3: 3.0 GiB", "b-done: 3.0 GiB", "nightly-1: 2m0s")
		if n := strings.Count(body, `<circle class="point"`); n != 8 {
			t.Errorf("%d points, want 4 backups on each of 2 charts", n)
		}
	})
	t.Run("not found", func(t *testing.T) {
		if code, body := f.get(t, "/backups/"+f.ns+"/nope"); code != http.StatusNotFound || !strings.Contains(body, "does not exist") {
			t.Errorf("missing backup: %d\n%s", code, body)
		}
		if code, _ := f.get(t, "/backups/other-namespace/b-done"); code != http.StatusNotFound {
			t.Errorf("a backup outside the dashboard's namespace: %d, want 404", code)
		}
		if code, _ := f.get(t, "/no/such/page"); code != http.StatusNotFound {
			t.Errorf("unknown page: %d", code)
		}
	})
	t.Run("read-only", func(t *testing.T) {
		resp, err := http.Post(f.base+"/backups/"+f.ns+"/b-done", "text/plain", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusMethodNotAllowed {
			t.Errorf("POST: %d, want 405", resp.StatusCode)
		}
	})
	t.Run("no secret value anywhere", func(t *testing.T) { noSecrets(t, f) })
}

// section is the part of body from the first marker to the second.
func section(body, from, to string) string {
	_, rest, _ := strings.Cut(body, from)
	part, _, _ := strings.Cut(rest, to)
	return part
}

// noSecrets fetches every page, stream and static file and looks for each
// Secret value, raw and in base64.
func noSecrets(t *testing.T, f *fixture) {
	paths := []string{"/", "/static/style.css", "/static/live.js", "/no/such/page"}
	for _, p := range []string{"backups/%s/b-done", "backups/%s/b-running", "backups/%s/b-failed", "backups/%s/b-new",
		"restores/%s/r-done", "restores/%s/r-running", "locations/%s/default", "locations/%s/offsite", "schedules/%s/nightly"} {
		paths = append(paths, "/"+strings.ReplaceAll(p, "%s", f.ns))
	}
	f.eventually(t, paths[4], "shop/db-creds") // the repository has been read
	for _, p := range paths {
		_, body := f.get(t, p)
		if !strings.HasPrefix(p, "/static/") {
			body += firstEvent(t, f, p)
		}
		for _, v := range secretValues {
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
				if strings.Contains(body, form) {
					t.Errorf("%s shows the Secret value %q", p, form)
				}
			}
		}
	}
}

// firstEvent reads a page's stream until its first message.
func firstEvent(t *testing.T, f *fixture, path string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	ev := openStream(t, ctx, f.base+path)
	select {
	case data := <-ev:
		return data
	case <-ctx.Done():
		t.Fatalf("%s: no event", path)
		return ""
	}
}

// openStream reads server-sent events until ctx ends, sending each
// message's data.
func openStream(t *testing.T, ctx context.Context, url string) <-chan string {
	t.Helper()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	req.Header.Set("Accept", "text/event-stream")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("stream of %s: Content-Type %q", url, ct)
	}
	out := make(chan string)
	go func() {
		defer resp.Body.Close()
		defer close(out)
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 1<<20), 1<<24)
		var data []string
		for sc.Scan() {
			line := sc.Text()
			if d, ok := strings.CutPrefix(line, "data: "); ok {
				data = append(data, d)
				continue
			}
			if line == "" && data != nil {
				select {
				case out <- strings.Join(data, "\n"):
				case <-ctx.Done():
					return
				}
				data = nil
			}
		}
	}()
	return out
}

// A stream sends the page's content at once and again when an object it
// shows changes, without a reload.
func TestStreamSendsChanges(t *testing.T) {
	f := start(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ev := openStream(t, ctx, f.base+"/backups/"+f.ns+"/b-running")
	first := <-ev
	if !strings.Contains(first, "1.0 GiB / 4.0 GiB (25%)") || strings.Contains(first, "<html") {
		t.Fatalf("first event is not the page's content:\n%s", first)
	}
	f.setWork(t, "b-running-data", func(st *v1alpha1.WorkStatus) { st.Progress.BytesDone = 3 << 30 })
	for {
		select {
		case data := <-ev:
			if strings.Contains(data, "3.0 GiB / 4.0 GiB (75%)") {
				return
			}
		case <-ctx.Done():
			t.Fatal("the change never reached the stream")
		}
	}
}
