package hostpath_test

import (
	"sync"
	"testing"

	"github.com/container-storage-interface/spec/lib/go/csi"
	"google.golang.org/grpc/codes"

	"github.com/cairnbackup/cairn/csi/hostpath"
)

func TestCapacityLimitAndGetCapacity(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{Capacity: 10 << 20})
	available := func() int64 {
		r, err := c.ctrl.GetCapacity(ctx(t), &csi.GetCapacityRequest{})
		if err != nil {
			t.Fatal(err)
		}
		return r.GetAvailableCapacity()
	}
	if got := available(); got != 10<<20 {
		t.Fatalf("available %d, want 10 MiB", got)
	}
	v := c.createVolume("a", blockCap(rw), 6<<20, nil)
	if got := available(); got != 4<<20 {
		t.Fatalf("available %d, want 4 MiB", got)
	}
	_, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "b", VolumeCapabilities: []*csi.VolumeCapability{mountCap(rw)},
		CapacityRange: &csi.CapacityRange{RequiredBytes: 6 << 20}})
	wantCode(t, err, codes.ResourceExhausted, "a volume over the capacity")
	r, err := c.ctrl.GetCapacity(ctx(t), &csi.GetCapacityRequest{AccessibleTopology: &csi.Topology{Segments: map[string]string{hostpath.TopologyKey: "elsewhere"}}})
	if err != nil || r.GetAvailableCapacity() != 0 {
		t.Fatalf("capacity on another node: %v, %v", r, err)
	}
	c.deleteVolume(v.GetVolumeId())
	if got := available(); got != 10<<20 {
		t.Fatalf("available %d after delete, want 10 MiB", got)
	}
}

func TestCreateVolumeRules(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{NodeID: "n1"})
	v := c.createVolume("v", blockCap(rw), 5000, nil)
	if v.GetCapacityBytes() != 8192 {
		t.Fatalf("5000 bytes rounded to %d, want 8192", v.GetCapacityBytes())
	}
	topo := v.GetAccessibleTopology()
	if len(topo) != 1 || topo[0].GetSegments()[hostpath.TopologyKey] != "n1" {
		t.Fatalf("topology %v", topo)
	}
	if v.GetVolumeContext()[hostpath.VolumeNameKey] != "v" {
		t.Fatalf("volume context %v lacks the name", v.GetVolumeContext())
	}
	if again := c.createVolume("v", blockCap(rw), 5000, nil); again.GetVolumeId() != v.GetVolumeId() {
		t.Fatal("same name and arguments made a second volume")
	}
	for name, req := range map[string]*csi.CreateVolumeRequest{
		"another access type": {Name: "v", VolumeCapabilities: []*csi.VolumeCapability{mountCap(rw)}},
		"other parameters":    {Name: "v", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}, Parameters: map[string]string{"a": "b"}},
		"too small a limit":   {Name: "v", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}, CapacityRange: &csi.CapacityRange{LimitBytes: 4096}},
	} {
		_, err := c.ctrl.CreateVolume(ctx(t), req)
		wantCode(t, err, codes.AlreadyExists, name)
	}
	other := &csi.TopologyRequirement{Requisite: []*csi.Topology{{Segments: map[string]string{hostpath.TopologyKey: "n2"}}}}
	_, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "w", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)}, AccessibilityRequirements: other})
	wantCode(t, err, codes.ResourceExhausted, "a volume required on another node")
	multi := &csi.VolumeCapability{AccessType: &csi.VolumeCapability_Mount{Mount: &csi.VolumeCapability_MountVolume{}},
		AccessMode: &csi.VolumeCapability_AccessMode{Mode: csi.VolumeCapability_AccessMode_MULTI_NODE_MULTI_WRITER}}
	_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "m", VolumeCapabilities: []*csi.VolumeCapability{multi}})
	wantCode(t, err, codes.InvalidArgument, "a multi-node access mode")
	_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "r", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)},
		CapacityRange: &csi.CapacityRange{RequiredBytes: 8192, LimitBytes: 4096}})
	wantCode(t, err, codes.OutOfRange, "required above limit")
	_, err = c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "x", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)},
		VolumeContentSource: fromSnapshot("snap-0123456789abcdef")})
	wantCode(t, err, codes.NotFound, "an unknown source snapshot")
}

func TestListPagination(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{})
	want := map[string]bool{}
	for _, n := range []string{"a", "b", "c", "d", "e"} {
		want[c.createVolume(n, mountCap(rw), 4096, nil).GetVolumeId()] = true
	}
	seen := map[string]bool{}
	token := ""
	for pages := 0; ; pages++ {
		r, err := c.ctrl.ListVolumes(ctx(t), &csi.ListVolumesRequest{MaxEntries: 2, StartingToken: token})
		if err != nil {
			t.Fatal(err)
		}
		if len(r.GetEntries()) > 2 {
			t.Fatalf("page of %d entries, max 2", len(r.GetEntries()))
		}
		for _, e := range r.GetEntries() {
			if seen[e.GetVolume().GetVolumeId()] {
				t.Fatalf("volume %s listed twice", e.GetVolume().GetVolumeId())
			}
			seen[e.GetVolume().GetVolumeId()] = true
		}
		if token = r.GetNextToken(); token == "" {
			break
		}
		if pages > 5 {
			t.Fatal("pagination does not end")
		}
		// Deleting the volume the token names must not break paging.
		if pages == 0 {
			c.deleteVolume(token)
			delete(want, token)
		}
	}
	if len(seen) != len(want) {
		t.Fatalf("listed %d volumes, want %d", len(seen), len(want))
	}
	_, err := c.ctrl.ListVolumes(ctx(t), &csi.ListVolumesRequest{StartingToken: "bogus"})
	wantCode(t, err, codes.Aborted, "a token the driver never issued")
}

// TestConcurrentCreateSameName: calls racing on one name make one volume;
// each gets that volume or Aborted (the spec's "operation pending").
func TestConcurrentCreateSameName(t *testing.T) {
	_, c := startDriver(t, hostpath.Config{})
	const n = 8
	ids := make(chan string, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.ctrl.CreateVolume(ctx(t), &csi.CreateVolumeRequest{Name: "race", VolumeCapabilities: []*csi.VolumeCapability{blockCap(rw)},
				CapacityRange: &csi.CapacityRange{RequiredBytes: 64 << 20}})
			if err != nil {
				errs <- err
				return
			}
			ids <- r.GetVolume().GetVolumeId()
		}()
	}
	wg.Wait()
	close(ids)
	close(errs)
	for err := range errs {
		wantCode(t, err, codes.Aborted, "a racing CreateVolume")
	}
	seen := map[string]bool{}
	for id := range ids {
		seen[id] = true
	}
	list, err := c.ctrl.ListVolumes(ctx(t), &csi.ListVolumesRequest{})
	if err != nil || len(seen) != 1 || len(list.GetEntries()) != 1 {
		t.Fatalf("racing creates: IDs %v, %d volumes listed (%v)", seen, len(list.GetEntries()), err)
	}
}
