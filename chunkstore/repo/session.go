package repo

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/core"
)

// Session timing. A writer refreshes its session file every
// HeartbeatInterval; prune treats a session not refreshed for StaleAfter as
// dead. The factor of ten tolerates long GC pauses, slow S3 PUTs and clock
// skew between hosts of a few minutes.
const (
	HeartbeatInterval = time.Minute
	StaleAfter        = 10 * time.Minute
)

// SessionInfo is the content of a session file.
type SessionInfo struct {
	Host      string `json:"host"`
	PID       int    `json:"pid"`
	Purpose   string `json:"purpose"`
	Started   int64  `json:"started_unix_ns"`
	Heartbeat int64  `json:"heartbeat_unix_ns"`
	// BootID and PIDNamespace say where PID means something: a process on
	// the same boot of the same kernel, in the same PID namespace, can
	// tell for certain that the session's process is gone.
	BootID       string `json:"boot_id,omitempty"`
	PIDNamespace string `json:"pid_ns,omitempty"`
}

// Session is a live writer or reader registration. Prune will not delete a
// pack that a session which was live when the pack was marked could use.
type Session struct {
	r    *Repository
	name string
	info SessionInfo

	mu       sync.Mutex
	lastBeat time.Time
	beatErr  error

	stop chan struct{}
	done chan struct{}
}

// StartSession registers a session and keeps it fresh until Close. purpose
// is a short word for people reading the repository ("backup", "restore").
func (r *Repository) StartSession(ctx context.Context, purpose string) (*Session, error) {
	host, _ := os.Hostname()
	now := r.clock.Now()
	s := &Session{r: r, name: KindSession + "/" + core.RandomID().String(),
		info: SessionInfo{Host: host, PID: os.Getpid(), Purpose: purpose, Started: now.UnixNano(),
			BootID: thisBoot.boot, PIDNamespace: thisBoot.pidNS},
		stop: make(chan struct{}), done: make(chan struct{})}
	if err := s.beat(ctx); err != nil {
		return nil, err
	}
	go s.loop()
	return s, nil
}

func (s *Session) beat(ctx context.Context) error {
	now := s.r.clock.Now()
	s.info.Heartbeat = now.UnixNano()
	err := s.r.store.Put(ctx, s.name, s.r.key.Seal(nil, mustJSON(s.info)))
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		s.beatErr = err
		return fmt.Errorf("session heartbeat %s: %w", s.name, err)
	}
	s.lastBeat = now
	return nil
}

func (s *Session) loop() {
	defer close(s.done)
	t := time.NewTicker(HeartbeatInterval)
	defer t.Stop()
	for {
		select {
		case <-s.stop:
			return
		case <-t.C:
			ctx, cancel := context.WithTimeout(context.Background(), HeartbeatInterval)
			_ = s.beat(ctx) // Healthy() reports a failure that lasts
			cancel()
		}
	}
}

// Healthy returns an error when the session has not been refreshed for half
// of StaleAfter: a prune may soon treat it as dead, so the writer must not
// publish a snapshot that could reference packs being deleted.
func (s *Session) Healthy() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if age := s.r.clock.Now().Sub(s.lastBeat); age > StaleAfter/2 {
		return fmt.Errorf("session %s has not been refreshed for %s (last error: %v); aborting so prune stays safe, run the backup again",
			s.name, age.Round(time.Second), s.beatErr)
	}
	return nil
}

// ID returns the session's ID.
func (s *Session) ID() core.ID {
	id, _ := core.ParseID(s.name[len(KindSession)+1:])
	return id
}

// Close stops the heartbeat and removes the session file.
func (s *Session) Close(ctx context.Context) error {
	close(s.stop)
	<-s.done
	if err := s.r.store.Delete(ctx, s.name); err != nil {
		return fmt.Errorf("end session %s: %w", s.name, err)
	}
	return nil
}

// LiveSession is a session file as prune sees it.
type LiveSession struct {
	ID   core.ID
	Info SessionInfo
	// Stale is true when the heartbeat is older than StaleAfter.
	Stale bool
	// Gone is set when the session's process is known to have exited: it
	// ran on this boot, in this PID namespace, and its PID is free. Such a
	// session is stale however recent its heartbeat, so that a backup or
	// prune killed a minute ago does not hold back the next prune.
	Gone bool
	// Modified is when the store last wrote the file.
	Modified time.Time
	// Err says why the file could not be read; Info is then empty.
	Err error
}

// Sessions lists the session files. An unreadable one counts as live until
// the store's own time says it has not been rewritten for StaleAfter:
// prune must err on the side of keeping data, but a damaged session file
// must not hold back every prune for ever.
func (r *Repository) Sessions(ctx context.Context) ([]LiveSession, error) {
	var found []LiveSession
	err := r.store.List(ctx, KindSession+"/", func(info blob.Info) error {
		if id, err := core.ParseID(strings.TrimPrefix(info.Name, KindSession+"/")); err == nil {
			found = append(found, LiveSession{ID: id, Modified: info.ModTime})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	now := r.clock.Now()
	out := found[:0]
	for _, ls := range found {
		b, err := r.store.Get(ctx, fileName(KindSession, ls.ID), 0, -1)
		if errors.Is(err, blob.ErrNotFound) {
			continue // ended between List and Get
		}
		if err == nil {
			err = decodeSession(r, b, &ls.Info)
		}
		if err != nil {
			ls.Err = err
			ls.Stale = now.Sub(ls.Modified) > StaleAfter
		} else {
			ls.Gone = thisBoot.gone(ls.Info)
			ls.Stale = ls.Gone || now.Sub(time.Unix(0, ls.Info.Heartbeat)) > StaleAfter
		}
		out = append(out, ls)
	}
	return out, nil
}

func decodeSession(r *Repository, sealed []byte, info *SessionInfo) error {
	plain, err := r.key.Open(nil, sealed)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if err := json.Unmarshal(plain, info); err != nil {
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return nil
}

// LastSeen is the session's heartbeat, or the file's modification time
// when it could not be read.
func (ls LiveSession) LastSeen() time.Time {
	if ls.Err != nil {
		return ls.Modified
	}
	return time.Unix(0, ls.Info.Heartbeat)
}

// RemoveSession deletes a session file, as prune does for stale ones.
func (r *Repository) RemoveSession(ctx context.Context, id core.ID) error {
	return r.DeleteFile(ctx, KindSession, id)
}
