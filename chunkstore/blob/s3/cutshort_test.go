package s3_test

import (
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"

	"github.com/cairnbackup/cairn/chunkstore/blob"
	"github.com/cairnbackup/cairn/chunkstore/blob/s3/s3test"
)

// TestPutCutShortIsNotStored cuts the connection of a PUT after part of its
// body, as a client killed mid-upload would, and checks that the server
// kept nothing under the object's name: Put sends an unsigned payload, so
// only its checksum trailer lets the server tell a short body from a whole
// one. Over https too, where minio-go would otherwise send an unsigned
// payload without a trailer.
func TestPutCutShortIsNotStored(t *testing.T) {
	t.Run("http", func(t *testing.T) { testPutCutShort(t, s3test.Start(t)) })
	t.Run("https", func(t *testing.T) { testPutCutShort(t, s3test.StartTLS(t)) })
}

func testPutCutShort(t *testing.T, srv *s3test.Server) {
	bucket := srv.NewBucket(t)
	direct := open(t, srv.Config(bucket, "p"))
	data := make([]byte, 4<<20)
	for i := range data {
		data[i] = byte(i*31 + i>>9)
	}
	for _, limit := range []int64{64 << 10, 2 << 20, 4<<20 - 100} {
		cfg := srv.Config(bucket, "p")
		cfg.Endpoint = cutProxy(t, srv.Endpoint, limit)
		if strings.HasPrefix(srv.Endpoint, "https://") {
			cfg.Endpoint = "https://" + strings.TrimPrefix(cfg.Endpoint, "http://")
		}
		cut := open(t, cfg)
		if err := cut.Put(t.Context(), "obj", data); err == nil {
			t.Fatalf("Put through a connection cut after %d bytes succeeded", limit)
		}
		if info, err := direct.Stat(t.Context(), "obj"); !errors.Is(err, blob.ErrNotFound) {
			t.Fatalf("after a Put cut after %d bytes: Stat = %+v, %v; want not found", limit, info, err)
		}
	}
}

// cutProxy forwards connections to target, each request stream cut (both
// directions closed) after limit bytes from the client.
func cutProxy(t *testing.T, target string, limit int64) string {
	t.Helper()
	host := strings.TrimPrefix(strings.TrimPrefix(target, "https://"), "http://")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { forwardCut(c, host, limit) })
		}
	})
	return "http://" + ln.Addr().String()
}

func forwardCut(c net.Conn, host string, limit int64) {
	defer func() { _ = c.Close() }()
	s, err := net.Dial("tcp", host)
	if err != nil {
		return
	}
	defer func() { _ = s.Close() }()
	go func() { _, _ = io.Copy(c, s) }()
	_, _ = io.Copy(s, io.LimitReader(c, limit))
}
