// Package hostpathtest runs cairn's reference CSI driver (csi/hostpath)
// inside tests: in the test process (Start) or as a separate
// cairn-csi-hostpath process that can be killed and restarted
// (StartProcess).
//
// Either way the driver listens on a unix socket in a short temporary
// directory (socket paths must stay under about 100 bytes, which
// t.TempDir's long names break), and the test's cleanup stops it,
// unpublishes and unstages whatever is still mounted, detaches its loop
// devices and removes its directories.
//
// Put staging and target paths under Work: t.TempDir directories made
// after Start are removed before this package's cleanup runs, which would
// delete through still-mounted targets.
//
// Start returns a Driver: the running *hostpath.Driver (SetFault, SetHang,
// Calls, Inventory, ...), its Endpoint, Root and Work directory, Logs, and
// Restart/RestartWith to start a fresh driver over the same root while
// mounts stay. StartProcess returns a Process with Kill (SIGKILL), Stop,
// Restart and Logs; BuildBinary builds the binary once per test process;
// Flags turns a hostpath.Config into the binary's flags.
package hostpathtest
