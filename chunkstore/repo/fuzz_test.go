package repo

import (
	"testing"
)

func FuzzParseConfig(f *testing.F) {
	cfg, err := newConfig(1)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(mustJSON(cfg))
	f.Add([]byte(`{"version":1}`))
	f.Add([]byte(`{"version":2,"chunker_polynomial":"3DA3358B4DC173"}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := ParseConfig(b)
		if err != nil {
			return
		}
		if c.Version != FormatVersion || len(c.IDKey) != 32 {
			t.Fatalf("accepted an invalid config: %+v", c)
		}
	})
}
