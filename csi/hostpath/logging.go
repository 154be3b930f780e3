package hostpath

import (
	"context"
	"crypto/subtle"
	"log/slog"
	"path"
	"strings"
	"time"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// redacted replaces every secret value in what the driver logs.
const redacted = "***redacted***"

// logUnary logs each RPC once, when it ends: method, code, duration and
// the request with its secrets replaced. Nothing else reads request
// secrets except checkSecrets, which never echoes them.
func (d *Driver) logUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	start := time.Now()
	resp, err := next(ctx, req)
	d.logRPC(ctx, info.FullMethod, req, start, err)
	return resp, err
}

func (d *Driver) logStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	start := time.Now()
	rs := &recordingStream{ServerStream: ss}
	err := next(srv, rs)
	d.logRPC(ss.Context(), info.FullMethod, rs.req, start, err)
	return err
}

// recordingStream keeps the request of a server-streaming RPC for the log.
type recordingStream struct {
	grpc.ServerStream
	req any
}

func (s *recordingStream) RecvMsg(m any) error {
	err := s.ServerStream.RecvMsg(m)
	if err == nil {
		s.req = m
	}
	return err
}

func (d *Driver) logRPC(ctx context.Context, method string, req any, start time.Time, err error) {
	st := status.Convert(err)
	rpc := path.Base(method)
	level := slog.LevelInfo
	switch {
	case st.Code() != codes.OK:
		level = slog.LevelWarn
	case quietRPCs[rpc]:
		level = slog.LevelDebug
	}
	attrs := []slog.Attr{
		slog.String("rpc", rpc),
		slog.String("code", st.Code().String()),
		slog.String("duration", time.Since(start).Round(time.Microsecond).String()),
	}
	if m, ok := req.(proto.Message); ok {
		attrs = append(attrs, slog.String("request", redactedJSON(m)))
	}
	if err != nil {
		attrs = append(attrs, slog.String("error", st.Message()))
	}
	d.log.LogAttrs(ctx, level, "rpc", attrs...)
}

// quietRPCs change nothing and are polled by COs and sidecars; they are
// logged at debug level so the info log shows what happened.
var quietRPCs = map[string]bool{
	"GetPluginInfo": true, "GetPluginCapabilities": true, "Probe": true,
	"ControllerGetCapabilities": true, "NodeGetCapabilities": true, "NodeGetInfo": true,
	"GetCapacity": true, "NodeGetVolumeStats": true,
}

// redactedJSON renders m with the value of every field the CSI spec marks
// csi_secret replaced, at any depth.
func redactedJSON(m proto.Message) string {
	c := proto.Clone(m)
	stripSecrets(c.ProtoReflect())
	b, err := protojson.MarshalOptions{}.Marshal(c)
	if err != nil {
		return "<unprintable request>"
	}
	return string(b)
}

func stripSecrets(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case isSecretField(fd):
			redactValue(m, fd)
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				stripSecrets(mv.Message())
				return true
			})
		case fd.IsList() && fd.Message() != nil:
			for i := 0; i < v.List().Len(); i++ {
				stripSecrets(v.List().Get(i).Message())
			}
		case fd.Message() != nil && !fd.IsMap() && !fd.IsList():
			stripSecrets(v.Message())
		}
		return true
	})
}

func redactValue(m protoreflect.Message, fd protoreflect.FieldDescriptor) {
	switch {
	case fd.IsMap():
		mp := m.Mutable(fd).Map()
		var keys []protoreflect.MapKey
		mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
			keys = append(keys, k)
			return true
		})
		for _, k := range keys {
			mp.Set(k, protoreflect.ValueOfString(redacted))
		}
	case fd.Kind() == protoreflect.StringKind && !fd.IsList():
		m.Set(fd, protoreflect.ValueOfString(redacted))
	default:
		m.Clear(fd)
	}
}

func isSecretField(fd protoreflect.FieldDescriptor) bool {
	opts, ok := fd.Options().(*descriptorpb.FieldOptions)
	if !ok || opts == nil {
		return false
	}
	v, _ := proto.GetExtension(opts, csi.E_CsiSecret).(bool)
	return v
}

// checkSecretsUnary enforces Config.Secrets on the Controller service:
// every configured key must be present with its value. The errors name the
// key, never a value, so a test can prove secrets arrive without them
// ever being printed.
func (d *Driver) checkSecretsUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if len(d.cfg.Secrets) == 0 || !strings.HasPrefix(info.FullMethod, "/csi.v1.Controller/") {
		return next(ctx, req)
	}
	r, ok := req.(interface{ GetSecrets() map[string]string })
	if !ok {
		return next(ctx, req) // this RPC carries no secrets
	}
	got := r.GetSecrets()
	for _, k := range sortedKeys(d.cfg.Secrets) {
		v, present := got[k]
		if !present {
			return nil, status.Errorf(codes.InvalidArgument, "%s: secret %q is required and missing from the request's secrets", path.Base(info.FullMethod), k)
		}
		if subtle.ConstantTimeCompare([]byte(v), []byte(d.cfg.Secrets[k])) != 1 {
			return nil, status.Errorf(codes.Unauthenticated, "%s: secret %q does not match", path.Base(info.FullMethod), k)
		}
	}
	return next(ctx, req)
}
