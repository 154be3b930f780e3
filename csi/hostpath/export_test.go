package hostpath

// Exported for the external tests: leaking a loop device the way a crash
// between attach and record would.
var AttachLoop = attachLoop
