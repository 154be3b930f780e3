package hostpath

import (
	"fmt"
	"path/filepath"
)

// Inventory lists what a driver holds: what a test asserts is gone after a
// cleanup, or an operator reads when something is left over.
type Inventory struct {
	Volumes     []string // volume IDs
	Snapshots   []string // IDs of snapshots not deleted
	Staged      []string // staging paths
	Published   []string // target paths
	LoopDevices []string // loop devices attached for publications
}

// Empty reports whether nothing at all is held.
func (inv Inventory) Empty() bool {
	return len(inv.Volumes)+len(inv.Snapshots)+len(inv.Staged)+len(inv.Published)+len(inv.LoopDevices) == 0
}

// Inventory returns what this driver holds.
func (d *Driver) Inventory() Inventory {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.st.inventory()
}

// ReadInventory returns what the driver owning root holds, from its state
// file, without opening the root: it works while that driver runs in
// another process, or after it was killed.
func ReadInventory(root string) (Inventory, error) {
	st, err := loadState(filepath.Join(root, "state.json"))
	if err != nil {
		return Inventory{}, fmt.Errorf("read inventory of %s: %w", root, err)
	}
	return st.inventory(), nil
}

func (st *state) inventory() Inventory {
	inv := Inventory{
		Volumes:   sortedKeys(st.Volumes),
		Staged:    sortedKeys(st.Stages),
		Published: sortedKeys(st.Publications),
	}
	for _, id := range sortedKeys(st.Snapshots) {
		if !st.Snapshots[id].Deleted {
			inv.Snapshots = append(inv.Snapshots, id)
		}
	}
	for _, target := range inv.Published {
		if dev := st.Publications[target].Device; dev != "" {
			inv.LoopDevices = append(inv.LoopDevices, dev)
		}
	}
	return inv
}
