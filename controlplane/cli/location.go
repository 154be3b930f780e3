package cli

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/api/meta"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

var locationView = view{kind: locationKind,
	newObj: func() client.Object { return &v1alpha1.BackupLocation{} },
	table: func(e *env, objs []client.Object) error {
		return locationTable(e.cfg.Out, e.cfg.Now(), items[v1alpha1.BackupLocation](objs))
	},
	describe: describeLocationCmd,
}

func newLocationCmd(e *env) *cobra.Command {
	cmd := &cobra.Command{Use: "location", Aliases: []string{"locations"}, Short: "Manage backup locations: the repositories backups are written to"}
	cmd.AddCommand(newLocationCreateCmd(e), newGetCmd(e, locationView), newDescribeCmd(e, locationView), newLocationDeleteCmd(e))
	return cmd
}

func newLocationCreateCmd(e *env) *cobra.Command {
	f := &locationFlags{}
	var wait bool
	cmd := &cobra.Command{
		Use:   "create NAME --url URL",
		Short: "Create a backup location and its Secrets",
		Long: `Create a BackupLocation, with a Secret for its repository password and,
for S3, one for its credentials. The password comes from --password-file; when
that is not given and the location's password Secret does not exist yet, a
random password is generated into it (keep a copy: without it the backups
cannot be read). An existing password Secret is never overwritten with a
different password.

The controller initialises an empty location's repository on its first
validation. --wait waits for that validation.`,
		Example: `  cairn location create default --url s3://backups/cairn --s3-endpoint https://minio.example:9000 \
      --credentials-file ./s3.env --password-file ./repo-password
  cairn location create local --url file:///srv/cairn`,
		Args: exactArgs(1, "one location NAME"),
		RunE: func(cmd *cobra.Command, args []string) error { return e.runLocationCreate(cmd, args[0], f, wait) },
	}
	f.add(cmd, "url")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the controller has validated the location")
	return cmd
}

func (e *env) runLocationCreate(cmd *cobra.Command, name string, f *locationFlags, wait bool) error {
	if err := checkName("location", name); err != nil {
		return err
	}
	if f.url == "" {
		return usageErrorf("location create needs --url (s3://BUCKET/PREFIX or file:///PATH); see 'cairn location create --help'")
	}
	ctx := ctxOf(cmd)
	plan, err := e.planLocation(ctx, name, f, false)
	if err != nil {
		return err
	}
	c, err := e.kube()
	if err != nil {
		return err
	}
	if err := c.Get(ctx, client.ObjectKeyFromObject(plan.location), &v1alpha1.BackupLocation{}); err == nil {
		return fmt.Errorf("location %q already exists in namespace %s; delete it with `cairn location delete %s` first, or pick another name", name, e.namespace, name)
	}
	for _, s := range plan.secrets {
		if err := applyObject(ctx, c, s); err != nil {
			return fmt.Errorf("create Secret %s/%s of location %s: %w", s.Namespace, s.Name, name, err)
		}
	}
	if err := c.Create(ctx, plan.location); err != nil {
		return fmt.Errorf("create location %s/%s: %w", e.namespace, name, err)
	}
	printf(e.cfg.Out, "Location %q created in namespace %s.\n", name, e.namespace)
	for _, n := range plan.notes {
		printf(e.cfg.Out, "%s\n", n)
	}
	if !wait {
		return nil
	}
	return e.waitLocation(cmd, name)
}

// waitLocation waits for the controller's first validation of a location.
func (e *env) waitLocation(cmd *cobra.Command, name string) error {
	ctx := ctxOf(cmd)
	var loc v1alpha1.BackupLocation
	for {
		if err := e.get(ctx, locationKind, name, &loc); err != nil {
			return err
		}
		switch loc.Status.Phase {
		case v1alpha1.LocationAvailable:
			printf(e.cfg.Out, "Location %q is Available (repository %s).\n", name, short(loc.Status.RepositoryID))
			return nil
		case v1alpha1.LocationUnavailable:
			return fmt.Errorf("location %q is Unavailable: %s", name, loc.Status.Message)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("stopped waiting; location %s is not validated yet (is the controller running? `cairn version` shows it)", name)
		case <-time.After(e.cfg.PollInterval):
		}
	}
}

func newLocationDeleteCmd(e *env) *cobra.Command {
	return &cobra.Command{
		Use:   "delete NAME...",
		Short: "Delete backup locations (their repositories and Secrets are kept)",
		Long: `Delete BackupLocations. The repositories' data stays where it is, and so do
the locations' Secrets: the repository password is needed to read the
backups again (create the location anew with the same URL and the Secret
is reused).`,
		Args:              rangeArgs(1, -1, "one or more location names"),
		ValidArgsFunction: e.completeNames(locationKind),
		RunE: func(cmd *cobra.Command, args []string) error {
			return e.deleteObjects(cmd, locationKind, args, false, func() client.Object { return &v1alpha1.BackupLocation{} },
				"its repository data and Secrets are kept")
		},
	}
}

// checkLocation fails when a backup could not be written to the location.
func (e *env) checkLocation(cmd *cobra.Command, name string) error {
	name = orDefault(name)
	var loc v1alpha1.BackupLocation
	if err := e.get(ctxOf(cmd), locationKind, name, &loc); err != nil {
		var nf *notFoundError
		if errors.As(err, &nf) {
			return fmt.Errorf("%w; create it with `cairn location create %s --url URL`", err, name)
		}
		return err
	}
	if loc.Spec.AccessMode == v1alpha1.AccessReadOnly {
		return fmt.Errorf("location %q is ReadOnly; back up to a ReadWrite location with --location", name)
	}
	if loc.Status.Phase == v1alpha1.LocationUnavailable {
		return fmt.Errorf("location %q is Unavailable: %s; fix it (see `cairn location describe %s`), then back up again", name, loc.Status.Message, name)
	}
	return nil
}

func locationTable(w io.Writer, now time.Time, ls []v1alpha1.BackupLocation) error {
	t := newTable(w, "NAME", "URL", "PHASE", "ACCESS", "REPOSITORY", "VALIDATED", "AGE")
	for _, l := range ls {
		t.row(l.Name, l.Spec.URL, orNone(string(l.Status.Phase)), accessMode(l.Spec.AccessMode), short(l.Status.RepositoryID),
			agePtr(now, l.Status.LastValidationTime), age(now, l.CreationTimestamp))
	}
	return t.flush()
}

func accessMode(m v1alpha1.AccessMode) string {
	if m == "" {
		return string(v1alpha1.AccessReadWrite)
	}
	return string(m)
}

func describeLocationCmd(cmd *cobra.Command, e *env, obj client.Object) error {
	l := obj.(*v1alpha1.BackupLocation)
	c, err := e.kube()
	if err != nil {
		return err
	}
	var bs v1alpha1.BackupList
	if err := c.List(ctxOf(cmd), &bs, client.InNamespace(e.namespace), client.MatchingLabels{v1alpha1.LabelLocation: l.Name}); err != nil {
		return fmt.Errorf("list the backups of location %s: %w", l.Name, err)
	}
	return describeLocation(e.cfg.Out, e.cfg.Now(), l, len(bs.Items))
}

// describeLocation shows availability (and why not), repository, Secrets
// by name, validation and maintenance.
func describeLocation(w io.Writer, now time.Time, l *v1alpha1.BackupLocation, backups int) error {
	d := newDescriber(w)
	s, st := l.Spec, l.Status
	d.kv(0, "Name", "%s", l.Name)
	d.kv(0, "Namespace", "%s", l.Namespace)
	d.kv(0, "URL", "%s", s.URL)
	d.kv(0, "Access mode", "%s", accessMode(s.AccessMode))
	if s.S3 != nil {
		d.line(0, "S3:")
		d.kv(1, "Endpoint", "%s", orNone(s.S3.Endpoint))
		d.kv(1, "Region", "%s", orNone(s.S3.Region))
		d.kv(1, "Path style", "%t", s.S3.PathStyle)
		d.kv(1, "CA bundle", "%s", yesNo(len(s.S3.CABundle) > 0))
	}
	d.kv(0, "Password", "Secret %s, key %s", s.PasswordSecretRef.Name, s.PasswordSecretRef.Key)
	d.kv(0, "Credentials", "%s", secretText(s.CredentialsSecret))
	d.kv(0, "Phase", "%s", orNone(string(st.Phase)))
	if st.Phase == v1alpha1.LocationUnavailable || st.Message != "" {
		d.kv(1, "Reason", "%s", orNone(st.Message))
	}
	if c := meta.FindStatusCondition(st.Conditions, v1alpha1.ConditionAvailable); c != nil {
		d.kv(1, "Available", "%s (%s) %s", c.Status, c.Reason, c.Message)
	}
	d.kv(0, "Repository ID", "%s", orNone(st.RepositoryID))
	d.kv(0, "Last validation", "%s", stamp(now, st.LastValidationTime))
	interval := "1m0s"
	if s.ValidationInterval != nil {
		interval = s.ValidationInterval.Duration.String()
	}
	d.kv(1, "Interval", "%s", interval)
	d.kv(0, "Maintenance", "%s (UTC)", orText(s.MaintenanceSchedule, "0 3 * * *"))
	d.kv(1, "Last run", "%s", stamp(now, st.LastMaintenanceTime))
	if c := meta.FindStatusCondition(st.Conditions, "Maintained"); c != nil {
		d.kv(1, "Result", "%s (%s) %s", c.Status, c.Reason, c.Message)
	}
	d.kv(0, "Last sync", "%s", stamp(now, st.LastSyncTime))
	d.kv(0, "Compression", "%s", orText(s.Compression, "default"))
	d.kv(0, "Backups", "%d", backups)
	d.kv(0, "Created", "%s", stamp(now, &l.CreationTimestamp))
	return d.flush()
}

func secretText(name string) string {
	if name == "" {
		return "<none> (file location, or credentials from the environment)"
	}
	return "Secret " + name
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func orText(s, def string) string {
	if s == "" {
		return def
	}
	return s
}
