package demo

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/e2e/localcluster"
)

const (
	shopNS     = "shop"
	restoredNS = "shop-restored"
	pageSize   = 8 << 10
)

// shopObjects are the shop's API objects besides its volumes and pods.
func shopObjects() []client.Object {
	labels := map[string]string{"app": "web"}
	replicas := int32(2)
	return []client.Object{
		&corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: shopNS}},
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: "settings", Namespace: shopNS},
			Data: map[string]string{"currency": "EUR", "tax-rate": "0.20", "banner": "Winter sale: 20% off boots"}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "payment", Namespace: shopNS},
			StringData: map[string]string{"api-key": "demo-payment-key-not-real"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: shopNS},
			Spec: corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "http", Port: 80, TargetPort: intstr.FromInt32(8080)}}}},
		&appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: "web", Namespace: shopNS},
			Spec: appsv1.DeploymentSpec{Replicas: &replicas, Selector: &metav1.LabelSelector{MatchLabels: labels},
				Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
					Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "web", Image: "shop/web:1.4",
						Ports: []corev1.ContainerPort{{ContainerPort: 8080}}}}}}}},
	}
}

// createShop creates the namespace, its objects, its two volumes with
// their pods, and the data in them.
func (d *demo) createShop(ctx context.Context) error {
	d.say("Creating the shop: a Deployment, a ConfigMap, a Secret, a Service, and two volumes with real data —\n" +
		"  catalog   a file tree (product pages and images) on node-a, mounted by pod web-0\n" +
		"  orders    a database image on a raw block volume on node-b, mounted by pod db-0")
	for _, o := range shopObjects() {
		if err := d.c.Client.Create(ctx, o); err != nil {
			return fmt.Errorf("create %T %s: %w", o, o.GetName(), err)
		}
	}
	for _, s := range []localcluster.VolumeSpec{{Namespace: shopNS, PVC: "catalog", Node: "node-a", Size: 2 << 30},
		{Namespace: shopNS, PVC: "orders", Node: "node-b", Size: d.sizes.dbVolume, Block: true}} {
		v, err := d.c.Provision(ctx, s)
		if err != nil {
			return err
		}
		d.volumes = append(d.volumes, v)
	}
	web, err := d.c.RunPod(ctx, localcluster.PodSpec{Namespace: shopNS, Name: "web-0", Node: "node-a", Claims: []string{"catalog"}, Labels: map[string]string{"app": "web"}})
	if err != nil {
		return err
	}
	db, err := d.c.RunPod(ctx, localcluster.PodSpec{Namespace: shopNS, Name: "db-0", Node: "node-b", Claims: []string{"orders"}, Labels: map[string]string{"app": "db"}})
	if err != nil {
		return err
	}
	d.catalog, d.orders = web["catalog"], db["orders"]
	n, err := localcluster.WriteTree(d.catalog, 1, d.sizes.files)
	if err != nil {
		return err
	}
	if err := writePages(d.orders, 0, int(d.sizes.dbData/pageSize), 1); err != nil {
		return err
	}
	d.say("Wrote %d files (%s) to catalog and %s of database pages to the %s orders volume (the rest is unallocated).",
		d.sizes.files, human(n), human(d.sizes.dbData), human(d.sizes.dbVolume))
	return nil
}

// writePages writes count database pages from page first: a header and
// order rows, compressible like a real database's pages.
func writePages(dev string, first, count int, seed uint64) error {
	f, err := os.OpenFile(dev, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(seed, uint64(first)))
	buf := make([]byte, 0, 64*pageSize)
	flush := func(at int) error {
		_, err := f.WriteAt(buf, int64(at)*pageSize)
		buf = buf[:0]
		return err
	}
	start := first
	for p := first; p < first+count; p++ {
		buf = append(buf, page(rng, p)...)
		if len(buf) == cap(buf) {
			if err := flush(start); err != nil {
				f.Close()
				return err
			}
			start = p + 1
		}
	}
	if err := flush(start); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func page(rng *rand.Rand, n int) []byte {
	b := make([]byte, 0, pageSize)
	b = fmt.Appendf(b, "PAGE %08d LSN %016x\n", n, rng.Uint64())
	for len(b) < pageSize-96 {
		b = fmt.Appendf(b, "order=%07d customer=%05d sku=BOOT-%03d qty=%d total=%d.%02d status=%s\n",
			rng.IntN(9999999), rng.IntN(99999), rng.IntN(400), 1+rng.IntN(4), rng.IntN(500), rng.IntN(100),
			[]string{"paid", "shipped", "pending", "returned"}[rng.IntN(4)])
	}
	return append(b, make([]byte, pageSize-len(b))...)
}

// change is a day of business: new orders appended, hot index pages
// rewritten, some catalog pages edited, added and removed.
func (d *demo) change(ctx context.Context) error {
	pages := int(d.sizes.dbData / pageSize)
	appended := d.sizes.changePages
	if err := writePages(d.orders, pages, appended, 2); err != nil {
		return err
	}
	if err := writePages(d.orders, 0, appended/20, 3); err != nil {
		return err
	}
	edited, err := editCatalog(d.catalog, d.sizes.files)
	if err != nil {
		return err
	}
	d.say("A day of business: %d new order pages (%s) appended, %d index pages rewritten, %d catalog files edited, added or removed.",
		appended, human(int64(appended)*pageSize), appended/20, edited)
	return nil
}

// editCatalog changes a few files of the catalog and returns how many.
func editCatalog(dir string, files int) (int, error) {
	n := 0
	for i := 0; i < files; i += 50 {
		p := fmt.Sprintf("%s/d%d/e%d/f%04d.txt", dir, i%7, i%3, i)
		if err := os.WriteFile(p, fmt.Appendf(nil, "price updated on day 2 for item %d\n", i), 0o644); err != nil {
			return n, err
		}
		n++
	}
	for i := range 20 {
		if err := os.WriteFile(fmt.Sprintf("%s/d%d/new-%02d.txt", dir, i%7, i), fmt.Appendf(nil, "new product %d\n", i), 0o644); err != nil {
			return n, err
		}
		n++
	}
	if err := os.Remove(fmt.Sprintf("%s/d1/e1/f%04d.txt", dir, 1)); err != nil {
		return n, err
	}
	return n + 1, nil
}
