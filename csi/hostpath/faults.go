package hostpath

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Fault makes an RPC fail with Code and Message instead of running.
type Fault struct {
	RPC     string // short method name, e.g. "CreateSnapshot"
	Code    codes.Code
	Message string
	// Times is how many calls fail before the RPC works again; 0 means
	// every call until ClearFaults.
	Times int
}

// knobs are the test controls: injected faults, hangs and call counts.
// They sit in an interceptor, outside the CSI services, so the services
// read as a plain driver.
type knobs struct {
	mu     sync.Mutex
	faults map[string]*Fault
	hangs  map[string]bool
	calls  map[string]int
}

func newKnobs(faults []Fault, hangs []string) (*knobs, error) {
	k := &knobs{faults: map[string]*Fault{}, hangs: map[string]bool{}, calls: map[string]int{}}
	for _, f := range faults {
		if err := k.setFault(f); err != nil {
			return nil, err
		}
	}
	for _, h := range hangs {
		if err := k.setHang(h, true); err != nil {
			return nil, err
		}
	}
	return k, nil
}

// rpcNames lists every method of the four services, for validating names.
var rpcNames = func() map[string]bool {
	m := map[string]bool{}
	for _, sd := range []grpc.ServiceDesc{csi.Identity_ServiceDesc, csi.Controller_ServiceDesc, csi.Node_ServiceDesc, csi.SnapshotMetadata_ServiceDesc} {
		for _, md := range sd.Methods {
			m[md.MethodName] = true
		}
		for _, st := range sd.Streams {
			m[st.StreamName] = true
		}
	}
	return m
}()

func checkRPC(name string) error {
	if !rpcNames[name] {
		known := sortedKeys(rpcNames)
		return fmt.Errorf("unknown RPC %q (known: %s)", name, strings.Join(known, ", "))
	}
	return nil
}

func (k *knobs) setFault(f Fault) error {
	if err := checkRPC(f.RPC); err != nil {
		return err
	}
	if f.Code == codes.OK {
		return fmt.Errorf("fault for %s: code OK is not a fault", f.RPC)
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.faults[f.RPC] = &f
	return nil
}

func (k *knobs) setHang(rpc string, on bool) error {
	if err := checkRPC(rpc); err != nil {
		return err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if on {
		k.hangs[rpc] = true
	} else {
		delete(k.hangs, rpc)
	}
	return nil
}

// enter counts a call and says what to do with it: fail (non-nil error),
// hang (true), or run.
func (k *knobs) enter(rpc string) (hang bool, err error) {
	k.mu.Lock()
	defer k.mu.Unlock()
	k.calls[rpc]++
	if f := k.faults[rpc]; f != nil {
		if f.Times > 0 {
			if f.Times--; f.Times == 0 {
				delete(k.faults, rpc)
			}
		}
		return false, status.Error(f.Code, f.Message)
	}
	return k.hangs[rpc], nil
}

func (k *knobs) intercept(ctx context.Context, fullMethod string) error {
	hang, err := k.enter(path.Base(fullMethod))
	if err != nil || !hang {
		return err
	}
	<-ctx.Done()
	return status.FromContextError(ctx.Err()).Err()
}

func (k *knobs) unary(ctx context.Context, req any, info *grpc.UnaryServerInfo, next grpc.UnaryHandler) (any, error) {
	if err := k.intercept(ctx, info.FullMethod); err != nil {
		return nil, err
	}
	return next(ctx, req)
}

func (k *knobs) stream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, next grpc.StreamHandler) error {
	if err := k.intercept(ss.Context(), info.FullMethod); err != nil {
		return err
	}
	return next(srv, ss)
}

// SetFault makes every later call of rpc (e.g. "CreateSnapshot") fail
// with code and msg until ClearFaults.
func (d *Driver) SetFault(rpc string, code codes.Code, msg string) error {
	return d.knobs.setFault(Fault{RPC: rpc, Code: code, Message: msg})
}

// InjectFault installs f; with f.Times > 0 only that many calls fail,
// which tests a caller's retries.
func (d *Driver) InjectFault(f Fault) error { return d.knobs.setFault(f) }

// SetHang makes calls of rpc block until their context ends (on) or run
// normally again (off). Calls already hanging stay hung.
func (d *Driver) SetHang(rpc string, on bool) error { return d.knobs.setHang(rpc, on) }

// ClearFaults removes every fault and hang.
func (d *Driver) ClearFaults() {
	d.knobs.mu.Lock()
	defer d.knobs.mu.Unlock()
	d.knobs.faults = map[string]*Fault{}
	d.knobs.hangs = map[string]bool{}
}

// Calls returns how many times rpc was called, faults and hangs included.
func (d *Driver) Calls(rpc string) int {
	d.knobs.mu.Lock()
	defer d.knobs.mu.Unlock()
	return d.knobs.calls[rpc]
}

// ParseFault parses the --fault flag's RPC=CODE[:message], CODE being a
// gRPC code name in any case ("Unavailable", "RESOURCE_EXHAUSTED") or
// number.
func ParseFault(s string) (Fault, error) {
	rpc, rest, ok := strings.Cut(s, "=")
	if !ok {
		return Fault{}, fmt.Errorf("fault %q: want RPC=CODE[:message]", s)
	}
	name, msg, _ := strings.Cut(rest, ":")
	code, err := ParseCode(name)
	if err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", s, err)
	}
	if msg == "" {
		msg = "injected fault: " + code.String()
	}
	f := Fault{RPC: strings.TrimSpace(rpc), Code: code, Message: msg}
	if err := checkRPC(f.RPC); err != nil {
		return Fault{}, fmt.Errorf("fault %q: %w", s, err)
	}
	return f, nil
}

// ParseCode parses a gRPC status code name or number.
func ParseCode(s string) (codes.Code, error) {
	norm := strings.ToLower(strings.ReplaceAll(strings.TrimSpace(s), "_", ""))
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		if strings.ToLower(c.String()) == norm {
			return c, nil
		}
	}
	if n, err := strconv.ParseUint(norm, 10, 32); err == nil && n <= uint64(codes.Unauthenticated) {
		return codes.Code(n), nil
	}
	var names []string
	for c := codes.OK; c <= codes.Unauthenticated; c++ {
		names = append(names, c.String())
	}
	sort.Strings(names)
	return 0, fmt.Errorf("unknown gRPC code %q (known: %s)", s, strings.Join(names, ", "))
}
