package repo

import "time"

// Clock is the time source; tests inject a fake one to drive heartbeats and
// grace periods.
type Clock interface {
	Now() time.Time
}

type systemClock struct{}

func (systemClock) Now() time.Time { return time.Now() }
