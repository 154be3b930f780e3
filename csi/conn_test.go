package csi

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// fakeDriver is an in-memory driver whose answers the tests script.
type fakeDriver struct {
	csi.UnimplementedIdentityServer
	csi.UnimplementedControllerServer
	csi.UnimplementedSnapshotMetadataServer

	mu        sync.Mutex
	failures  []codes.Code // returned in turn by CreateSnapshot, then success
	calls     int
	snapshots map[string]string // name → ID
	hang      bool
	errMsg    string
	breakAt   int // GetMetadataAllocated fails once after this many messages
	starts    []int64
}

func (f *fakeDriver) CreateSnapshot(ctx context.Context, r *csi.CreateSnapshotRequest) (*csi.CreateSnapshotResponse, error) {
	f.mu.Lock()
	f.calls++
	hang, msg := f.hang, f.errMsg
	var fail codes.Code
	if len(f.failures) > 0 {
		fail, f.failures = f.failures[0], f.failures[1:]
	}
	f.mu.Unlock()
	if hang {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	if msg != "" {
		return nil, status.Error(codes.InvalidArgument, msg)
	}
	if fail != codes.OK {
		return nil, status.Error(fail, "scripted failure")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	id, ok := f.snapshots[r.Name]
	if !ok {
		id = "snap-" + r.Name
		f.snapshots[r.Name] = id
	}
	return &csi.CreateSnapshotResponse{Snapshot: &csi.Snapshot{SnapshotId: id, SourceVolumeId: r.SourceVolumeId, ReadyToUse: true}}, nil
}

// GetMetadataAllocated streams ten 1 MiB ranges at every other MiB, one
// per message, breaking the stream once when breakAt is set.
func (f *fakeDriver) GetMetadataAllocated(r *csi.GetMetadataAllocatedRequest, s csi.SnapshotMetadata_GetMetadataAllocatedServer) error {
	f.mu.Lock()
	f.starts = append(f.starts, r.StartingOffset)
	breakAt := f.breakAt
	f.breakAt = 0
	f.mu.Unlock()
	sent := 0
	for i := int64(0); i < 10; i++ {
		off := i * 2 << 20
		if off+1<<20 <= r.StartingOffset {
			continue
		}
		if breakAt > 0 && sent == breakAt {
			return status.Error(codes.Unavailable, "stream broke")
		}
		err := s.Send(&csi.GetMetadataAllocatedResponse{BlockMetadataType: csi.BlockMetadataType_VARIABLE_LENGTH, VolumeCapacityBytes: 20 << 20,
			BlockMetadata: []*csi.BlockMetadata{{ByteOffset: off, SizeBytes: 1 << 20}}})
		if err != nil {
			return err
		}
		sent++
	}
	return nil
}

func startFake(t *testing.T, f *fakeDriver) (*Conn, *bytes.Buffer) {
	t.Helper()
	dir, err := os.MkdirTemp("", "csi")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "csi.sock")
	lis, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	csi.RegisterIdentityServer(srv, f)
	csi.RegisterControllerServer(srv, f)
	csi.RegisterSnapshotMetadataServer(srv, f)
	go func() { _ = srv.Serve(lis) }()
	t.Cleanup(srv.Stop)
	var logs bytes.Buffer
	var mu sync.Mutex
	c, err := Dial(Config{Endpoint: "unix://" + sock, Driver: "fake.csi", Timeout: 300 * time.Millisecond, Attempts: 4,
		Backoff: 5 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c, &logs
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func TestRetryableCodesAreRetriedAndNamesMakeItIdempotent(t *testing.T) {
	f := &fakeDriver{snapshots: map[string]string{}, failures: []codes.Code{codes.Unavailable, codes.Aborted, codes.DeadlineExceeded}}
	c, _ := startFake(t, f)
	s, err := c.CreateSnapshot(t.Context(), SnapshotRequest{Name: "cairn-snap-1", SourceVolumeID: "vol-1"})
	if err != nil {
		t.Fatalf("create after three retryable failures: %v", err)
	}
	again, err := c.CreateSnapshot(t.Context(), SnapshotRequest{Name: "cairn-snap-1", SourceVolumeID: "vol-1"})
	if err != nil || again.ID != s.ID {
		t.Fatalf("second create with the same name: %v, %q want %q", err, again.ID, s.ID)
	}
	if f.calls != 5 || len(f.snapshots) != 1 {
		t.Errorf("calls %d (want 5), snapshots %d (want 1)", f.calls, len(f.snapshots))
	}
}

func TestFinalCodesAreNotRetried(t *testing.T) {
	f := &fakeDriver{snapshots: map[string]string{}, failures: []codes.Code{codes.ResourceExhausted}}
	c, _ := startFake(t, f)
	_, err := c.CreateSnapshot(t.Context(), SnapshotRequest{Name: "n", SourceVolumeID: "vol-1"})
	var re *RPCError
	if !errors.As(err, &re) || re.Code != codes.ResourceExhausted || re.RPC != "CreateSnapshot" || re.Driver != "fake.csi" {
		t.Fatalf("error %v: want an RPCError naming CreateSnapshot, fake.csi and ResourceExhausted", err)
	}
	if f.calls != 1 {
		t.Errorf("a final code was tried %d times", f.calls)
	}
	if !strings.Contains(err.Error(), "scripted failure") || !strings.Contains(err.Error(), "capacity") {
		t.Errorf("message %q lacks the driver's words or the hint", err)
	}
}

func TestHangingDriverTimesOut(t *testing.T) {
	f := &fakeDriver{snapshots: map[string]string{}, hang: true}
	c, _ := startFake(t, f)
	start := time.Now()
	_, err := c.CreateSnapshot(t.Context(), SnapshotRequest{Name: "n", SourceVolumeID: "vol-1"})
	if Code(err) != codes.DeadlineExceeded {
		t.Fatalf("hanging driver: %v, want DeadlineExceeded", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("gave up after %s; four 300ms attempts should take about 1.3s", took)
	}
	if f.calls != 4 || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Errorf("calls %d, error %q: want 4 attempts", f.calls, err)
	}
}

func TestSecretsNeverReachLogsOrErrors(t *testing.T) {
	const secret = "p4ssw0rd-do-not-leak"
	f := &fakeDriver{snapshots: map[string]string{}, errMsg: "bad credentials " + secret + " for user admin"}
	c, logs := startFake(t, f)
	_, err := c.CreateSnapshot(t.Context(), SnapshotRequest{Name: "n", SourceVolumeID: "vol-1", Secrets: map[string]string{"password": secret}})
	if err == nil {
		t.Fatal("the scripted failure did not fail the call")
	}
	f.mu.Lock()
	f.errMsg = ""
	f.mu.Unlock()
	if _, err := c.CreateSnapshot(t.Context(), SnapshotRequest{Name: "n", SourceVolumeID: "vol-1", Secrets: map[string]string{"password": secret}}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(err.Error(), secret) || strings.Contains(logs.String(), secret) {
		t.Fatalf("secret leaked:\nerror: %v\nlogs: %s", err, logs)
	}
	if !strings.Contains(logs.String(), stripped) || !strings.Contains(err.Error(), "***") {
		t.Errorf("no sign of stripping; logs %s error %v", logs, err)
	}
}

func TestMetadataStreamResumesFromTheLastOffset(t *testing.T) {
	f := &fakeDriver{snapshots: map[string]string{}, breakAt: 4}
	c, _ := startFake(t, f)
	var got []Range
	capacity, err := c.Allocated(t.Context(), "snap", nil, func(rs []Range) error {
		got = append(got, rs...)
		return nil
	})
	if err != nil || capacity != 20<<20 {
		t.Fatalf("allocated: %v, capacity %d", err, capacity)
	}
	if len(got) != 10 {
		t.Fatalf("got %d ranges, want 10 (no repeats, none lost): %v", len(got), got)
	}
	for i, r := range got {
		if r.Offset != int64(i)*2<<20 || r.Length != 1<<20 {
			t.Fatalf("range %d is %+v", i, r)
		}
	}
	if len(f.starts) != 2 || f.starts[1] != 7<<20 {
		t.Errorf("stream started at %v, want [0 %d]", f.starts, 7<<20)
	}
}

func TestSanitizeStripsNestedSecrets(t *testing.T) {
	req := &csi.NodeStageVolumeRequest{VolumeId: "v", Secrets: map[string]string{"k": "hunter22"}}
	if s := Sanitize(req); strings.Contains(s, "hunter22") || !strings.Contains(s, `"v"`) {
		t.Fatalf("sanitized %s", s)
	}
}
