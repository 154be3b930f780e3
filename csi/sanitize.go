package csi

import (
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// stripped replaces each secret value in a sanitized request.
const stripped = "***stripped***"

// Sanitize renders a CSI request for a log line with the value of every
// secrets map replaced, at any depth. Anything that is not a protobuf
// message renders as its type only.
func Sanitize(req any) string {
	m, ok := req.(proto.Message)
	if !ok || m == nil {
		return "<non-proto request>"
	}
	clone := proto.Clone(m)
	stripSecrets(clone.ProtoReflect())
	b, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(clone)
	if err != nil {
		return "<unprintable request>"
	}
	return string(b)
}

// stripSecrets walks the message, blanking map fields named "secrets" and
// recursing into nested messages.
func stripSecrets(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsMap() && fd.Name() == "secrets":
			mp := m.Mutable(fd).Map()
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				mp.Set(k, protoreflect.ValueOfString(stripped))
				return true
			})
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len(); i++ {
				stripSecrets(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				stripSecrets(mv.Message())
				return true
			})
		case fd.Message() != nil && !fd.IsMap():
			stripSecrets(m.Mutable(fd).Message())
		}
		return true
	})
}
