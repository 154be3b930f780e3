package checker

import (
	"context"

	"github.com/cairnbackup/cairn/chunkstore/repo"
)

// checkKeys verifies every key file against its name and its format. The
// password opened one of them; a damaged one opens none, and its owner
// learns it only when the other keys are gone, so it is a problem now.
func (c *checker) checkKeys(ctx context.Context) error {
	keys, err := c.r.Keys(ctx)
	if err != nil {
		return err
	}
	c.rep.Keys = len(keys)
	for _, k := range keys {
		if k.Damage != "" {
			c.rep.problem(repo.KindKey+"/"+k.ID.String(), "key file is damaged (%s): no password opens it; "+
				"remove it with 'cairn repo key remove %s' and add its password again with 'cairn repo key add'", k.Damage, k.ID.Short())
		}
	}
	return nil
}
