package core

import "errors"

// ErrCorrupt marks repository bytes that fail verification: they do not
// hash to their name, fail authentication, or do not parse. It is defined
// here so that packages which only read repository objects (snapshots,
// trees) can tell damage from a store that failed to deliver, without
// importing the repository.
var ErrCorrupt = errors.New("corrupt object")
