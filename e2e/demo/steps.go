package demo

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

// install runs `cairn install` and `cairn location create`.
func (d *demo) install(ctx context.Context) error {
	d.say("Installing cairn. (The simulated nodes run no kubelet, so the controller Deployment and the agent\n" +
		"DaemonSet it creates stay unscheduled; their processes already run locally.)")
	if err := d.cairn(ctx, "install"); err != nil {
		return err
	}
	pw := filepath.Join(d.dir, "repository-password")
	if err := os.WriteFile(pw, []byte(localcluster.Password()), 0o600); err != nil {
		return err
	}
	args := []string{"location", "create", "default", "--password-file", pw, "--wait"}
	if d.s3 != nil {
		creds := filepath.Join(d.dir, "s3-credentials")
		line := fmt.Sprintf("AWS_ACCESS_KEY_ID=%s\nAWS_SECRET_ACCESS_KEY=%s\n", d.s3.AccessKey, d.s3.SecretKey)
		if err := os.WriteFile(creds, []byte(line), 0o600); err != nil {
			return err
		}
		args = append(args, "--url", "s3://cairn-demo/shop", "--s3-endpoint", d.s3.Endpoint, "--s3-region", "us-east-1", "--credentials-file", creds)
	} else {
		args = append(args, "--url", "file://"+filepath.Join(d.dir, "repository"))
	}
	if err := d.cairn(ctx, args...); err != nil {
		return err
	}
	return d.cairn(ctx, "location", "get")
}

// backup runs one backup with live progress and records its figures.
func (d *demo) backup(ctx context.Context, name string, fig *BackupFigures) error {
	if name == "monday" {
		d.say("Backing up the shop. The agent of each node snapshots its volume through the CSI driver, reads the\n" +
			"snapshot (only allocated blocks of the block volume) and streams deduplicated, compressed, encrypted chunks.")
	} else {
		d.say("Backing up again: the file volume is compared with the last backup, and the block volume is read\n" +
			"only where the driver's snapshot metadata says blocks changed.")
	}
	if err := d.cairn(ctx, "backup", "create", name, "--include-namespaces", shopNS, "--wait"); err != nil {
		return err
	}
	if name == "tuesday" {
		if err := d.cairn(ctx, "backup", "describe", name); err != nil {
			return err
		}
	}
	return d.backupFigures(ctx, name, fig)
}

// disaster deletes the shop: its objects, its claims, its PVs and the
// volumes themselves on the drivers.
func (d *demo) disaster(ctx context.Context) error {
	var err error
	if d.wantCatalog, err = localcluster.DigestTree(d.catalog); err != nil {
		return err
	}
	if d.wantOrders, err = localcluster.DigestImage(d.orders, d.sizes.dbVolume); err != nil {
		return err
	}
	d.say("Disaster: the shop's pods, objects, claims, PVs and the volumes on both drivers are deleted.")
	if err := d.c.StopPods(ctx, shopNS); err != nil {
		return err
	}
	var pvcs corev1.PersistentVolumeClaimList
	if err := d.c.Client.List(ctx, &pvcs, client.InNamespace(shopNS)); err != nil {
		return err
	}
	objs := append(shopObjects()[1:], &corev1.Pod{}, &corev1.Pod{})
	objs[len(objs)-2].SetNamespace(shopNS)
	objs[len(objs)-2].SetName("web-0")
	objs[len(objs)-1].SetNamespace(shopNS)
	objs[len(objs)-1].SetName("db-0")
	for i := range pvcs.Items {
		objs = append(objs, &pvcs.Items[i], &corev1.PersistentVolume{})
		objs[len(objs)-1].SetName(pvcs.Items[i].Spec.VolumeName)
	}
	for _, o := range objs {
		if err := deleteNow(ctx, d.c.Client, o); err != nil {
			return err
		}
	}
	return d.deleteVolumes(ctx)
}

// deleteNow deletes obj and drops its finalizers, as the controllers a
// real cluster runs would once nothing uses it.
func deleteNow(ctx context.Context, c client.Client, obj client.Object) error {
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := c.Delete(ctx, obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(obj), obj); err != nil {
		return client.IgnoreNotFound(err)
	}
	obj.SetFinalizers(nil)
	return client.IgnoreNotFound(c.Update(ctx, obj))
}

// deleteVolumes deletes the shop's volumes on their drivers.
func (d *demo) deleteVolumes(ctx context.Context) error {
	for _, v := range d.volumes {
		if err := d.c.DeleteVolume(ctx, v); err != nil {
			return fmt.Errorf("delete volume %s: %w", v.Handle, err)
		}
	}
	return nil
}

// restore runs the restore into another namespace with live progress.
func (d *demo) restore(ctx context.Context) error {
	d.say("Restoring tuesday's backup into %s: the objects come back in dependency order, and each volume is\n"+
		"recreated through the driver, filled by an agent, and bound to its claim before the workloads return.", restoredNS)
	start := time.Now()
	err := d.cairn(ctx, "restore", "create", "shop-back", "--from-backup", "tuesday", "--namespace-mappings", shopNS+":"+restoredNS, "--wait")
	if err != nil {
		return err
	}
	d.sum.RestoreTime = time.Since(start)
	var list v1alpha1.VolumeRestoreList
	if err := d.c.Client.List(ctx, &list, client.InNamespace(d.c.Namespace), client.MatchingLabels{v1alpha1.LabelRestore: "shop-back"}); err != nil {
		return err
	}
	for _, vr := range list.Items {
		d.sum.RestoredBytes += vr.Status.Stats.BytesRead
		d.sum.RestoreDataTime = max(d.sum.RestoreDataTime, time.Duration(vr.Status.Stats.DurationMilliseconds)*time.Millisecond)
	}
	return nil
}
