// Package clirun is what the cairn and cairn-repo commands share around
// their cobra trees: the collector's setting, Ctrl-C handling, the tuning
// profiles named by CAIRN_CPUPROFILE and CAIRN_MEMPROFILE, and the error
// line and exit code at the end.
package clirun
