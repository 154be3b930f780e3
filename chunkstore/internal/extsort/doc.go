// Package extsort sorts fixed-size records that need not fit in memory.
//
// Records are collected in one buffer of at most the configured memory;
// a full buffer is sorted and written to a run file in the temporary
// directory, and Sort merges the runs (and what is still buffered) into
// one ordered stream. Memory is the buffer, 4 bytes of sort order per
// buffered record, and a read buffer per run while merging.
//
// Invariants: run files are private to one Sorter and removed by Close,
// which is safe to call more than once and after Sort; a process killed
// mid-sort leaves only files named "sort-*" in the directory, which the
// caller's next run removes (RemoveLeftovers). Records equal under the
// comparison come out in no particular order.
package extsort
