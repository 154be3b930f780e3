package collect

import (
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"

	"github.com/cairnbackup/cairn/chunkstore/archiver"
	"github.com/cairnbackup/cairn/chunkstore/blob/mem"
	"github.com/cairnbackup/cairn/chunkstore/crypto"
	"github.com/cairnbackup/cairn/chunkstore/repo"
	"github.com/cairnbackup/cairn/chunkstore/snapshot"
)

var testPassword = []byte("collect test password")

func newRepo(t *testing.T) (*repo.Repository, *mem.Store) {
	t.Helper()
	store := mem.New()
	r, err := repo.Init(context.Background(), store, testPassword, repo.Options{KDF: crypto.FastKDFForTests})
	if err != nil {
		t.Fatal(err)
	}
	return r, store
}

// worldItems collects everything from the fake world, plus objects with
// numbers, nesting and a value large enough to span several chunks.
func worldItems(t *testing.T) []Item {
	t.Helper()
	c := newWorld(t)
	dep := object("shop", "numbers")
	with(dep, int64(3), "spec", "replicas")
	with(dep, 0.25, "spec", "ratio")
	with(dep, []any{"a", map[string]any{"b": true}}, "spec", "list")
	c.add("deployments.apps", dep)
	big := make([]byte, 3<<20)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range big {
		big[i] = 'a' + byte(rng.IntN(26))
	}
	c.add("configmaps", with(object("other", "big"), string(big), "data", "blob"))
	res, err := Collect(context.Background(), c.deps(), Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Items
}

func TestStoreLoadRoundTrip(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	items := worldItems(t)
	id, err := Store(ctx, r, items, StoreOptions{Hostname: "cluster-a", Tags: []string{"backup=b1"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(items) {
		t.Fatalf("loaded %d items, stored %d", len(got), len(items))
	}
	for i := range items {
		a, b := items[i], got[i]
		if a.Path() != b.Path() || a.GroupResource != b.GroupResource || a.Version != b.Version || a.Namespaced != b.Namespaced {
			t.Errorf("item %d: stored %s %v %s %v, loaded %s %v %s %v", i, a.Path(), a.GroupResource, a.Version, a.Namespaced,
				b.Path(), b.GroupResource, b.Version, b.Namespaced)
		}
		if !reflect.DeepEqual(a.Object.Object, b.Object.Object) {
			t.Errorf("%s: object differs\nstored %v\nloaded %v", a.Path(), a.Object.Object, b.Object.Object)
		}
	}
	st, err := snapshot.Find(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	if st.Hostname != "cluster-a" || !st.HasTag("backup=b1") || !slices.Equal(st.Paths, []string{TreeRoot}) ||
		st.Stats.Files != int64(len(items)) {
		t.Errorf("snapshot record: host %q tags %v paths %v files %d", st.Hostname, st.Tags, st.Paths, st.Stats.Files)
	}
}

// A second backup of unchanged objects stores nothing but its record and
// has the same tree; a changed object costs its own blob and the trees on
// its path.
func TestStoreDedupsAcrossBackups(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	items := worldItems(t)
	first := storeAndFind(t, r, items)
	second := storeAndFind(t, r, items)
	if !slices.Equal(first.Tree, second.Tree) || second.Stats.BlobsNew != 0 {
		t.Errorf("unchanged objects: trees %v vs %v, %d new blobs", first.Tree, second.Tree, second.Stats.BlobsNew)
	}
	changed := slices.Clone(items)
	i := slices.IndexFunc(changed, func(it Item) bool { return it.Path() == p("core/configmaps/shop/cfg") })
	obj := changed[i].Object.DeepCopy()
	with(obj, "v2", "data", "version")
	changed[i].Object = obj
	third := storeAndFind(t, r, changed)
	// one data blob, and the trees of shop/, configmaps/, core/, resources/ and the root
	if third.Stats.BlobsNew != 6 {
		t.Errorf("one changed object stored %d new blobs, want 6", third.Stats.BlobsNew)
	}
	if _, err := Load(ctx, r, "latest"); err != nil {
		t.Fatal(err)
	}
}

func storeAndFind(t *testing.T, r *repo.Repository, items []Item) snapshot.Stored {
	t.Helper()
	id, err := Store(context.Background(), r, items, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	st, err := snapshot.Find(context.Background(), r, id)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func TestStoreRejectsBadItems(t *testing.T) {
	cm := schema.GroupResource{Resource: "configmaps"}
	good := Item{GroupResource: cm, Version: "v1", Namespaced: true, Object: object("shop", "cfg")}
	cases := []struct {
		name  string
		items []Item
		want  string
	}{
		{"no object", []Item{{GroupResource: cm, Namespaced: true}}, "has no object"},
		{"no name", []Item{{GroupResource: cm, Namespaced: true, Object: object("shop", "")}}, "has no name"},
		{"namespaced without namespace", []Item{{GroupResource: cm, Namespaced: true, Object: object("", "x")}}, "has no namespace"},
		{"cluster-scoped with namespace", []Item{{GroupResource: pvsGR, Object: object("shop", "x")}}, "cluster-scoped but has namespace"},
		{"a name that is not a file name", []Item{{GroupResource: cm, Namespaced: true, Object: object("shop", "a/b")}}, "cannot be a path element"},
		{"the same object twice", []Item{good, good}, p("core/configmaps/shop/cfg") + ": two items have this path"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newRepo(t)
			_, err := Store(context.Background(), r, tc.items, StoreOptions{})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// writeRaw stores files with arbitrary content under resources/.
func writeRaw(t *testing.T, r *repo.Repository, files map[string]string) string {
	t.Helper()
	root := newDir()
	for path, content := range files {
		if err := root.add(strings.Split(path, "/"), []byte(content)); err != nil {
			t.Fatal(err)
		}
	}
	id, err := writeSnapshot(context.Background(), r, root, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return id.String()
}

func TestLoadRejectsInconsistentObjects(t *testing.T) {
	cm := `{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg","namespace":"shop"}}`
	cases := []struct {
		name  string
		files map[string]string
		want  string
	}{
		{"not JSON", map[string]string{"core/configmaps/shop/cfg.json": "{not json"}, "core/configmaps/shop/cfg.json: decode object"},
		{"no kind", map[string]string{"core/configmaps/shop/cfg.json": `{"apiVersion":"v1","metadata":{"name":"cfg"}}`}, "core/configmaps/shop/cfg.json: decode object"},
		{"another name", map[string]string{"core/configmaps/shop/other.json": cm}, "core/configmaps/shop/other.json: object is named"},
		{"another namespace", map[string]string{"core/configmaps/_cluster/cfg.json": cm}, "core/configmaps/_cluster/cfg.json: object is named"},
		{"another group", map[string]string{"apps/configmaps/shop/cfg.json": cm}, "apps/configmaps/shop/cfg.json: object has apiVersion"},
		{"no .json suffix", map[string]string{"core/configmaps/shop/cfg": cm}, "core/configmaps/shop/cfg: file name"},
		{"a file too high up", map[string]string{"core/configmaps/cfg.json": cm}, "core/configmaps/cfg.json: a file where the layout has a dir"},
		{"a directory too deep", map[string]string{"core/configmaps/shop/cfg.json/x": cm}, "core/configmaps/shop/cfg.json: a dir where the layout has a file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newRepo(t)
			_, err := Load(context.Background(), r, writeRaw(t, r, tc.files))
			if err == nil || !strings.Contains(err.Error(), TreeRoot+"/"+tc.want) {
				t.Fatalf("err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

// Damage to a stored object's data names the object's path.
func TestLoadNamesDamagedObjects(t *testing.T) {
	cases := []struct {
		name   string
		damage func(t *testing.T, store *mem.Store, pack string)
		is     error
	}{
		{"pack gone", func(t *testing.T, store *mem.Store, pack string) {
			if err := store.Delete(context.Background(), pack); err != nil {
				t.Fatal(err)
			}
		}, nil},
		{"pack corrupt", func(t *testing.T, store *mem.Store, pack string) {
			b, err := store.Get(context.Background(), pack, 0, -1)
			if err != nil {
				t.Fatal(err)
			}
			b[30] ^= 0xff // inside the first blob, after its nonce
			if err := store.Put(context.Background(), pack, b); err != nil {
				t.Fatal(err)
			}
		}, repo.ErrCorrupt},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			r, store := newRepo(t)
			obj := object("shop", "cfg")
			obj.SetAPIVersion("v1")
			obj.SetKind("ConfigMap")
			it := Item{GroupResource: schema.GroupResource{Resource: "configmaps"}, Version: "v1", Namespaced: true, Object: obj}
			id, err := Store(ctx, r, []Item{it}, StoreOptions{})
			if err != nil {
				t.Fatal(err)
			}
			data, _ := json.Marshal(obj.Object)
			loc, ok := r.Index().Lookup(r.NewHasher().Sum(data))
			if !ok {
				t.Fatal("the object's chunk is not in the index")
			}
			tc.damage(t, store, repo.PackName(loc.Pack))
			_, err = Load(ctx, r, id)
			if err == nil || !strings.Contains(err.Error(), it.Path()) {
				t.Fatalf("err = %v, want one naming %s", err, it.Path())
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Errorf("err = %v, want %v", err, tc.is)
			}
		})
	}
}

func TestLoadRefusesOtherSnapshots(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	if _, err := Load(ctx, r, "ffff"); !errors.Is(err, snapshot.ErrNotFound) {
		t.Errorf("unknown ID: err = %v", err)
	}
	dir := filepath.Join(t.TempDir(), "data")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	res, err := archiver.Backup(ctx, r, []string{dir}, archiver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Load(ctx, r, res.ID.String()); err == nil || !strings.Contains(err.Error(), "not a snapshot of API objects") {
		t.Errorf("file snapshot: err = %v", err)
	}
}

// A core item and one of a group literally named "core" would share a
// directory; Load tells them apart by apiVersion.
func TestLoadGroupNamedCore(t *testing.T) {
	ctx := context.Background()
	r, _ := newRepo(t)
	obj := &unstructured.Unstructured{Object: map[string]any{"apiVersion": "core/v2", "kind": "Thing",
		"metadata": map[string]any{"name": "t", "namespace": "shop"}}}
	it := Item{GroupResource: schema.GroupResource{Group: "core", Resource: "things"}, Version: "v2", Namespaced: true, Object: obj}
	id, err := Store(ctx, r, []Item{it}, StoreOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got, err := Load(ctx, r, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].GroupResource != it.GroupResource || got[0].Version != "v2" {
		t.Fatalf("loaded %+v", got)
	}
}
