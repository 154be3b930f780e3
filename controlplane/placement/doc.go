// Package placement decides which node's agent executes a work item: the
// node of a pod that mounts the volume when there is one (the data is
// local there), otherwise the ready node that runs the volume's CSI driver
// with the fewest unfinished work items.
package placement
