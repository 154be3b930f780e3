package repo

// SetMergeHook sets the hook run before a merged segment's manifest is
// written, for the kill-during-merge test.
func SetMergeHook(fn func() error) { mergeHook = fn }
