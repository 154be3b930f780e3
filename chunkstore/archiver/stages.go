package archiver

import (
	"sync"
	"time"
)

// stageCounters are one worker's busy times, merged when it exits.
type stageCounters struct {
	mu                      sync.Mutex
	read, chunk, hash, save time.Duration
}

func (s *stageCounters) add(o *stageCounters) {
	s.mu.Lock()
	s.read += o.read
	s.chunk += o.chunk
	s.hash += o.hash
	s.save += o.save
	s.mu.Unlock()
}

func (a *archiver) stageStats(wall time.Duration) StageStats {
	st := &a.saver.Stats
	return StageStats{
		Wall: wall, Read: a.stages.read, Chunk: a.stages.chunk, Hash: a.stages.hash, Save: a.stages.save,
		Compress: time.Duration(st.CompressNs.Load()), Encrypt: time.Duration(st.EncryptNs.Load()),
		Pack: time.Duration(st.PackNs.Load()), Upload: time.Duration(st.UploadNs.Load()),
	}
}
