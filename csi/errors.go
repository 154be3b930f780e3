package csi

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// RPCError is a failed call: which RPC, on which driver, with the driver's
// gRPC code and message (scrubbed of secrets).
type RPCError struct {
	RPC      string
	Driver   string
	Code     codes.Code
	Message  string
	Attempts int
}

func (e *RPCError) Error() string {
	tries := ""
	if e.Attempts > 1 {
		tries = fmt.Sprintf(" (after %d attempts)", e.Attempts)
	}
	return fmt.Sprintf("CSI %s on driver %s failed%s: %s: %s%s", e.RPC, e.Driver, tries, e.Code, e.Message, hint(e.Code))
}

// hint says what a person can do about a code.
func hint(c codes.Code) string {
	switch c {
	case codes.Unavailable:
		return "; check that the driver's pod is running on this node and its socket exists"
	case codes.DeadlineExceeded:
		return "; the driver did not answer in time, check its logs"
	case codes.Unimplemented:
		return "; the driver does not offer this service"
	case codes.Unauthenticated, codes.PermissionDenied:
		return "; check the CSI secrets referenced by the storage class"
	case codes.ResourceExhausted:
		return "; the storage backend is out of capacity or quota"
	}
	return ""
}

// Code returns the gRPC code of a CSI error, or codes.Unknown.
func Code(err error) codes.Code {
	var re *RPCError
	if errors.As(err, &re) {
		return re.Code
	}
	return codes.Unknown
}

// IsUnimplemented reports whether the driver does not offer the call.
func IsUnimplemented(err error) bool { return Code(err) == codes.Unimplemented }

// IsNotFound reports whether the driver does not know the object.
func IsNotFound(err error) bool { return Code(err) == codes.NotFound }

func (c *Conn) rpcError(rpc string, err error, attempts int, secrets map[string]string) error {
	st, _ := status.FromError(err)
	return &RPCError{RPC: rpc, Driver: c.cfg.Driver, Code: st.Code(), Message: Scrub(st.Message(), secrets), Attempts: attempts}
}

// Scrub replaces every secret value found in s with "***". Values shorter
// than four bytes are left alone: they would match ordinary text and are
// no secret worth the name.
func Scrub(s string, secrets map[string]string) string {
	for _, v := range secrets {
		if len(v) >= 4 {
			s = strings.ReplaceAll(s, v, "***")
		}
	}
	return s
}
