package repo_test

import (
	"encoding/json"
	"os/exec"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/core"
	"github.com/cairnbackup/cairn/chunkstore/internal/repotest"
	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// A session whose process is known to have exited (same boot, same PID
// namespace, PID free) is stale at once: a killed prune must not make the
// next prune wait ten minutes, as the fault campaign found. One from
// elsewhere is judged by its heartbeat only.
func TestSessionOfExitedProcessIsStale(t *testing.T) {
	store := mem.New()
	r := repotest.Init(t, store)
	live, err := r.StartSession(ctx, "backup")
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close(ctx)
	sessions, err := r.Sessions(ctx)
	if err != nil || len(sessions) != 1 || sessions[0].Stale || sessions[0].Info.BootID == "" {
		t.Fatalf("own live session: %+v, %v", sessions, err)
	}
	cmd := exec.Command("true")
	if err := cmd.Run(); err != nil {
		t.Fatal(err)
	}
	put := func(info repo.SessionInfo) core.ID {
		id := core.RandomID()
		b, _ := json.Marshal(info)
		if err := store.Put(ctx, "sessions/"+id.String(), r.Key().Seal(nil, b)); err != nil {
			t.Fatal(err)
		}
		return id
	}
	info := sessions[0].Info
	info.PID = cmd.Process.Pid // exited and reaped
	dead := put(info)
	info.BootID = "another-boot"
	elsewhere := put(info)
	sessions, err = r.Sessions(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range sessions {
		switch s.ID {
		case dead:
			if !s.Gone || !s.Stale {
				t.Errorf("session of an exited process: %+v, want gone and stale", s)
			}
		case elsewhere:
			if s.Gone || s.Stale {
				t.Errorf("fresh session from another boot: %+v, want live", s)
			}
		default:
			if s.Gone || s.Stale {
				t.Errorf("own session: %+v, want live", s)
			}
		}
	}
}
