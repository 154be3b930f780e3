package harness

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
	"github.com/cairnbackup/cairn/e2e/localcluster"
)

func namespaceObject(name string) *corev1.Namespace {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}
}

// agentWait bounds one backup or restore through the agent.
const agentWait = 20 * time.Minute

// backup backs up one volume of the namespace (all with vol "") through
// the controller and agent and records one sample per volume.
func (l *agentLeg) backup(ctx context.Context, name, phase, vol string) error {
	b := &v1alpha1.Backup{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.c.Namespace},
		Spec: v1alpha1.BackupSpec{IncludedNamespaces: []string{agentNS}}}
	if vol != "" {
		b.Spec.LabelSelector = &metav1.LabelSelector{MatchLabels: map[string]string{"volume": vol}}
	}
	if err := l.c.Client.Create(ctx, b); err != nil {
		return err
	}
	if err := l.waitDone(ctx, b, func() bool { return b.Status.Phase.Done() }); err != nil {
		return err
	}
	if b.Status.Phase != v1alpha1.BackupCompleted {
		return fmt.Errorf("backup %s ended %s: %v", name, b.Status.Phase, b.Status.Errors)
	}
	var items v1alpha1.VolumeBackupList
	if err := l.c.Client.List(ctx, &items, client.InNamespace(l.c.Namespace), client.MatchingLabels{v1alpha1.LabelBackup: name}); err != nil {
		return err
	}
	rss := l.agentRSS()
	for _, vb := range items.Items {
		vol := vb.Spec.Volume.PVC.Name
		s := vb.Status.Stats
		l.samples = append(l.samples, AgentSample{Run: l.run, Volume: vol, Phase: phase, Bytes: l.bytesOf(vol), Read: s.BytesRead,
			Seconds: seconds(s.ReadMilliseconds), ItemSeconds: seconds(s.DurationMilliseconds), MaxRSSBytes: rss, ReadMode: string(s.ReadMode)})
	}
	return nil
}

func (l *agentLeg) bytesOf(vol string) int64 {
	if vol == "image" {
		return l.img.Bytes()
	}
	return l.tree.Bytes()
}

// waitDone polls obj until done says so.
func (l *agentLeg) waitDone(ctx context.Context, obj client.Object, done func() bool) error {
	deadline := time.Now().Add(agentWait)
	for {
		if err := l.c.Client.Get(ctx, client.ObjectKeyFromObject(obj), obj); err == nil && done() {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s %s did not finish within %s", obj.GetObjectKind().GroupVersionKind().Kind, obj.GetName(), agentWait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// repoBaseline backs up the same volumes with `cairn repo`, reading them
// where the application's pod sees them (the block device and the mounted
// tree, on the same file system and loop devices the agent reads its
// snapshots through), and restores the image onto a file beside the
// driver's volumes, into a repository on the same file system as the
// agent's.
func (l *agentLeg) repoBaseline(ctx context.Context) error {
	c := &cycle{work: filepath.Join(l.repoDir(), "repo-cli")}
	if err := os.MkdirAll(c.home(), 0o755); err != nil {
		return err
	}
	t := &cairnTool{runner: runner{l.h.cfg.Bins.Launcher}, bin: l.h.cfg.Bins.CairnRepo}
	if err := t.Init(ctx, c); err != nil {
		return err
	}
	m, err := t.run(ctx, t.cmd(c, "backup", "--json", "--block", l.dev))
	if err != nil {
		return err
	}
	l.samples = append(l.samples, AgentSample{Run: l.run, Volume: "image", Phase: RepoBackup, Bytes: l.img.Bytes(), Read: l.img.Bytes(),
		Seconds: m.Wall.Seconds(), MaxRSSBytes: m.MaxRSS})
	snap, err := snapshotID(m.Stdout)
	if err != nil {
		return err
	}
	m, err = t.run(ctx, t.cmd(c, "backup", "--json", l.files))
	if err != nil {
		return err
	}
	l.samples = append(l.samples, AgentSample{Run: l.run, Volume: "files", Phase: RepoBackup, Bytes: l.tree.Bytes(), Read: l.tree.Bytes(),
		Seconds: m.Wall.Seconds(), MaxRSSBytes: m.MaxRSS})
	target := filepath.Join(l.work, "repo-restore.img")
	if m, err = t.run(ctx, t.cmd(c, "restore", snap, "--target", filepath.Dir(target)+"/repo-restore")); err != nil {
		return err
	}
	l.samples = append(l.samples, AgentSample{Run: l.run, Volume: "image", Phase: RepoRestore, Bytes: l.img.Bytes(),
		Seconds: m.Wall.Seconds(), MaxRSSBytes: m.MaxRSS})
	return os.RemoveAll(filepath.Dir(target) + "/repo-restore")
}

// restore restores one volume's full backup into another namespace
// through the agent and checks it against its dataset.
func (l *agentLeg) restore(ctx context.Context, vol string) error {
	if err := l.c.StopPods(ctx, agentNS); err != nil {
		return err
	}
	name := "back-" + vol
	rs := &v1alpha1.Restore{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: l.c.Namespace},
		Spec: v1alpha1.RestoreSpec{BackupName: vol + "-full", NamespaceMapping: map[string]string{agentNS: restoredNS(vol)}}}
	if err := l.c.Client.Create(ctx, rs); err != nil {
		return err
	}
	if err := l.waitDone(ctx, rs, func() bool { return rs.Status.Phase.Done() }); err != nil {
		return err
	}
	if rs.Status.Phase != v1alpha1.RestoreCompleted {
		return fmt.Errorf("restore ended %s: %v", rs.Status.Phase, rs.Status.Errors)
	}
	var items v1alpha1.VolumeRestoreList
	if err := l.c.Client.List(ctx, &items, client.InNamespace(l.c.Namespace), client.MatchingLabels{v1alpha1.LabelRestore: name}); err != nil {
		return err
	}
	rss := l.agentRSS()
	for _, vr := range items.Items {
		s := vr.Status.Stats
		vol := vr.Spec.Target.PVC.Name
		l.samples = append(l.samples, AgentSample{Run: l.run, Volume: vol, Phase: AgentRestore, Bytes: l.bytesOf(vol), Read: s.BytesRead,
			Seconds: seconds(s.ReadMilliseconds), ItemSeconds: seconds(s.DurationMilliseconds), MaxRSSBytes: rss})
	}
	if vol == "image" {
		return l.verifyImage(ctx)
	}
	return l.verifyFiles(ctx)
}

func restoredNS(vol string) string { return agentNS + "-" + vol }

// verifyImage compares the restored block volume with the image.
func (l *agentLeg) verifyImage(ctx context.Context) error {
	path, closeFn, err := l.c.OpenClaim(ctx, restoredNS("image"), "image")
	if err != nil {
		return err
	}
	got, err := localcluster.DigestImage(path, l.img.Bytes())
	want, werr := localcluster.DigestImage(l.img.Path(), l.img.Bytes())
	if cerr := closeFn(); err == nil {
		err = cerr
	}
	switch {
	case err != nil || werr != nil:
		return fmt.Errorf("digest the images: %v %v", err, werr)
	case got != want:
		return fmt.Errorf("RESTORED BLOCK VOLUME IS NOT IDENTICAL TO THE IMAGE")
	}
	return nil
}

// verifyFiles compares the restored file volume with the tree.
func (l *agentLeg) verifyFiles(ctx context.Context) error {
	path, closeFn, err := l.c.OpenClaim(ctx, restoredNS("files"), "files")
	if err != nil {
		return err
	}
	err = compareTrees(l.tree.Dir(), path)
	if cerr := closeFn(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("RESTORED FILE VOLUME IS NOT IDENTICAL TO THE TREE: %w", err)
	}
	return nil
}
