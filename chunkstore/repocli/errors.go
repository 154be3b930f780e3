package repocli

import (
	"errors"
	"fmt"
)

// Exit codes of the cairn binary.
const (
	ExitOK = 0
	// ExitError: the command failed.
	ExitError = 1
	// ExitWarnings: the command finished, but some entries could not be read
	// (backup) or fully restored (restore); they are listed on stderr.
	ExitWarnings = 3
	// ExitDamaged: a restore finished, but some files are damaged: the
	// repository lost data they hold or holds it corrupt. They are listed
	// on stderr, with the blob of each.
	ExitDamaged = 4
)

// ExitStatusError carries a non-default exit code with its message.
type ExitStatusError struct {
	Code int
	Err  error
}

func (e *ExitStatusError) Error() string { return e.Err.Error() }
func (e *ExitStatusError) Unwrap() error { return e.Err }

// ExitCode maps an error returned by the command tree to the process exit
// code.
func ExitCode(err error) int {
	if err == nil {
		return ExitOK
	}
	var es *ExitStatusError
	if errors.As(err, &es) {
		return es.Code
	}
	return ExitError
}

// warningsError reports that a command finished with n warnings.
func warningsError(format string, args ...any) error {
	return &ExitStatusError{Code: ExitWarnings, Err: fmt.Errorf(format, args...)}
}
