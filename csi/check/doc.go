// Package check is `cairn csi check`: the probe a storage vendor points at
// its own CSI driver to learn which of cairn's data paths it supports.
//
// Each check exercises its path for real on scratch volumes: it writes a
// known pattern, reads it back through the path, and reports pass, fail
// (with the RPC and the driver's error) or unsupported (the driver does
// not claim the capability). Everything the probe creates is recorded as
// it is created and removed at the end, in reverse order, whatever failed.
package check
