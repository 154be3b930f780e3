package csi

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Range is a run of bytes of a block volume.
type Range struct {
	Offset, Length int64
}

// End is the offset just past the range.
func (r Range) End() int64 { return r.Offset + r.Length }

// Ranges receives block metadata as it streams in, in increasing offset
// order. Returning an error stops the stream.
type Ranges func([]Range) error

// Allocated streams the allocated ranges of a block snapshot and returns
// the volume's capacity. A stream that breaks with a retryable code is
// resumed from the last offset received.
func (c *Conn) Allocated(ctx context.Context, snapshotID string, secrets map[string]string, fn Ranges) (int64, error) {
	open := func(ctx context.Context, from int64) (metaStream, error) {
		req := &csi.GetMetadataAllocatedRequest{SnapshotId: snapshotID, StartingOffset: from, Secrets: secrets}
		return c.meta.GetMetadataAllocated(ctx, req)
	}
	return c.streamMetadata(ctx, "GetMetadataAllocated", open, secrets, fn)
}

// Delta streams the ranges that differ between a base and a target
// snapshot of the same volume and returns the volume's capacity.
func (c *Conn) Delta(ctx context.Context, base, target string, secrets map[string]string, fn Ranges) (int64, error) {
	open := func(ctx context.Context, from int64) (metaStream, error) {
		req := &csi.GetMetadataDeltaRequest{BaseSnapshotId: base, TargetSnapshotId: target, StartingOffset: from, Secrets: secrets}
		return c.meta.GetMetadataDelta(ctx, req)
	}
	return c.streamMetadata(ctx, "GetMetadataDelta", open, secrets, fn)
}

// metaStream is what both metadata streams have in common.
type metaStream interface {
	grpc.ClientStream
}

// metaMessage is what both metadata responses have in common.
type metaMessage interface {
	GetBlockMetadataType() csi.BlockMetadataType
	GetVolumeCapacityBytes() int64
	GetBlockMetadata() []*csi.BlockMetadata
}

// streamMetadata reads a metadata stream to its end, reopening it from the
// next offset after a retryable failure (each reopen counts as an attempt).
// A message timeout guards against a driver that stops sending.
func (c *Conn) streamMetadata(ctx context.Context, rpc string, open func(context.Context, int64) (metaStream, error),
	secrets map[string]string, fn Ranges) (int64, error) {
	var capacity, next int64
	for attempt := 1; ; attempt++ {
		err := c.readStream(ctx, rpc, open, next, func(m metaMessage) error {
			capacity = m.GetVolumeCapacityBytes()
			rs, err := rangesOf(m, next)
			if err != nil {
				return fmt.Errorf("CSI %s on driver %s: %w; the driver is faulty", rpc, c.cfg.Driver, err)
			}
			if len(rs) == 0 {
				return nil
			}
			next = rs[len(rs)-1].End()
			return fn(rs)
		})
		if err == nil {
			return capacity, nil
		}
		if _, isRPC := status.FromError(err); !isRPC || ctx.Err() != nil || !retryable(status.Code(err)) || attempt >= c.cfg.Attempts {
			if isRPC && status.Code(err) != 0 {
				return 0, c.rpcError(rpc, err, attempt, secrets)
			}
			return 0, err
		}
		c.log.Warn("csi metadata stream broke, resuming", "driver", c.cfg.Driver, "rpc", rpc, "offset", next, "attempt", attempt)
		if werr := c.sleep(ctx, attempt); werr != nil {
			return 0, c.rpcError(rpc, err, attempt, secrets)
		}
	}
}

// readStream opens the stream at from and hands each message to fn.
func (c *Conn) readStream(ctx context.Context, rpc string, open func(context.Context, int64) (metaStream, error),
	from int64, fn func(metaMessage) error) error {
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	st, err := open(sctx, from)
	if err != nil {
		return err
	}
	for {
		m, err := c.recv(sctx, cancel, st, rpc)
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := fn(m); err != nil {
			return err
		}
	}
}

// recv receives one message, giving up when none arrives within the RPC's
// timeout (the stream is then canceled and reported DeadlineExceeded).
func (c *Conn) recv(ctx context.Context, cancel context.CancelFunc, st metaStream, rpc string) (metaMessage, error) {
	t := time.AfterFunc(c.timeout(rpc), cancel)
	defer t.Stop()
	var m metaMessage
	switch rpc {
	case "GetMetadataAllocated":
		m = &csi.GetMetadataAllocatedResponse{}
	default:
		m = &csi.GetMetadataDeltaResponse{}
	}
	err := st.RecvMsg(m)
	if err != nil && ctx.Err() != nil && !t.Stop() {
		return nil, status.Error(codes.DeadlineExceeded, fmt.Sprintf("no metadata received within %s", c.timeout(rpc)))
	}
	return m, err
}

// rangesOf converts one message's block metadata to byte ranges, trimmed
// to start at from or later: a resumed stream may begin with the block
// holding its starting offset. Ranges must come in increasing order.
func rangesOf(m metaMessage, from int64) ([]Range, error) {
	out := make([]Range, 0, len(m.GetBlockMetadata()))
	for _, b := range m.GetBlockMetadata() {
		r := Range{Offset: b.GetByteOffset(), Length: b.GetSizeBytes()}
		if r.Offset < 0 || r.Length <= 0 {
			return nil, fmt.Errorf("block metadata range at %d of size %d is invalid", r.Offset, r.Length)
		}
		if r.End() <= from {
			if len(out) > 0 {
				return nil, fmt.Errorf("block metadata range at %d is out of order", r.Offset)
			}
			continue
		}
		if r.Offset < from {
			r = Range{Offset: from, Length: r.End() - from}
		}
		out = append(out, r)
		from = r.End()
	}
	return out, nil
}
