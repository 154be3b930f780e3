package mem

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/internal/contract"
)

var _ blob.Store = (*Store)(nil)

// Store keeps objects in a map. The zero value is not usable; call New.
type Store struct {
	mu   sync.RWMutex
	objs map[string]object
	now  func() time.Time
}

type object struct {
	data []byte
	mod  time.Time
}

// New returns an empty store.
func New() *Store {
	return &Store{objs: make(map[string]object), now: time.Now}
}

// Put stores a copy of data under name.
func (s *Store) Put(ctx context.Context, name string, data []byte) error {
	if err := check(ctx, "put", name); err != nil {
		return err
	}
	obj := object{data: slices.Clone(data), mod: s.now()}
	if obj.data == nil {
		obj.data = []byte{}
	}
	s.mu.Lock()
	s.objs[name] = obj
	s.mu.Unlock()
	return nil
}

// Get returns a copy of the requested range.
func (s *Store) Get(ctx context.Context, name string, offset, length int64) ([]byte, error) {
	return s.GetInto(ctx, name, offset, length, nil)
}

// GetInto is Get copying into buf when it has room (blob.BufferGetter).
func (s *Store) GetInto(ctx context.Context, name string, offset, length int64, buf []byte) ([]byte, error) {
	if err := check(ctx, "get", name); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.objs[name]
	if !ok {
		return nil, notFound("get", name)
	}
	end, err := contract.Range(offset, length, int64(len(obj.data)))
	if err != nil {
		return nil, fmt.Errorf("mem get %s: %w", name, err)
	}
	out := blob.SizedBuffer(buf, end-offset)
	copy(out, obj.data[offset:end])
	return out, nil
}

// Stat reports the size and write time of name.
func (s *Store) Stat(ctx context.Context, name string) (blob.Info, error) {
	if err := check(ctx, "stat", name); err != nil {
		return blob.Info{}, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	obj, ok := s.objs[name]
	if !ok {
		return blob.Info{}, notFound("stat", name)
	}
	return blob.Info{Name: name, Size: int64(len(obj.data)), ModTime: obj.mod}, nil
}

// List calls fn for every object whose name starts with prefix, in name
// order (a convenience for tests; the contract promises no order).
func (s *Store) List(ctx context.Context, prefix string, fn func(blob.Info) error) error {
	if err := contract.CheckPrefix(prefix); err != nil {
		return fmt.Errorf("mem list %s: %w", prefix, err)
	}
	var infos []blob.Info
	s.mu.RLock()
	for name, obj := range s.objs {
		if strings.HasPrefix(name, prefix) {
			infos = append(infos, blob.Info{Name: name, Size: int64(len(obj.data)), ModTime: obj.mod})
		}
	}
	s.mu.RUnlock()
	slices.SortFunc(infos, func(a, b blob.Info) int { return strings.Compare(a.Name, b.Name) })
	for _, info := range infos {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("mem list %s: %w", prefix, err)
		}
		if err := fn(info); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes name.
func (s *Store) Delete(ctx context.Context, name string) error {
	if err := check(ctx, "delete", name); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.objs[name]; !ok {
		return notFound("delete", name)
	}
	delete(s.objs, name)
	return nil
}

// Location names the backend in messages.
func (s *Store) Location() string { return "mem:" }

// Close does nothing; the objects stay readable so a test can inspect the
// store after the code under test closed it.
func (s *Store) Close() error { return nil }

// Len reports how many objects the store holds, for test assertions.
func (s *Store) Len() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.objs)
}

func check(ctx context.Context, op, name string) error {
	if err := contract.CheckName(name); err != nil {
		return fmt.Errorf("mem %s: %w", op, err)
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("mem %s %s: %w", op, name, err)
	}
	return nil
}

func notFound(op, name string) error {
	return fmt.Errorf("mem %s %s: %w", op, name, blob.ErrNotFound)
}
