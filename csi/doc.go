// Package csi is cairn's client for Container Storage Interface drivers: the
// gRPC services a storage vendor's driver serves on a unix socket
// (identity, controller, node and snapshot metadata), wrapped in small typed
// calls that the node agent and `cairn csi check` use.
//
// Every call has a timeout of its own and is retried with full-jitter
// backoff when the driver answers Unavailable, DeadlineExceeded or Aborted
// (the codes the CSI spec gives for "try again": a restarting driver, a slow
// one, an operation already pending for the same name). Any other code is
// final and comes back as an *RPCError naming the RPC, the driver and the
// driver's message. Retrying is safe because every object cairn creates is
// named (Name): a retried CreateSnapshot or CreateVolume with the same name
// returns the object the first attempt made, never a second one.
//
// Secrets travel in the requests' secrets maps and nowhere else: requests
// are logged with every secrets map stripped (Sanitize), and a driver's
// error message is scrubbed of the request's secret values before it is
// wrapped, so no secret reaches a log line, an event, a status or an error.
//
// This package knows nothing of Kubernetes; the agent turns PVs and storage
// classes into the requests here.
package csi
