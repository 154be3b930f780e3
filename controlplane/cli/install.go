package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"
)

type installFlags struct {
	image, agentImage string
	dryRun            bool
	output            string
	wait              bool
	timeout           time.Duration
	locationName      string
	location          locationFlags
}

func newInstallCmd(e *env) *cobra.Command {
	f := &installFlags{}
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Install cairn: CRDs, RBAC, the controller, the node agents, and optionally a first location",
		Long: `Install cairn into the cluster: the CRDs, RBAC, the controller Deployment and
the node-agent DaemonSet, in the namespace given with -n (default
cairn-system). With --location-url, also a first backup location and its
Secrets (see cairn location create for the password rules).

Everything is applied server-side, so running install again changes
nothing, and running it with other flags (a new --image) changes only what
differs. --dry-run prints the objects instead (-o yaml or json); the
Secrets are not printed, since they hold the repository password and S3
keys: the commands that create them are written to stderr instead.`,
		Example: `  cairn install --wait
  cairn install --location-url s3://backups/cairn --s3-endpoint https://minio:9000 \
      --credentials-file ./s3.env --password-file ./repo-password --wait
  cairn install --dry-run -o yaml > cairn.yaml`,
		Args: exactArgs(0, "no arguments"),
		RunE: func(cmd *cobra.Command, _ []string) error { return e.runInstall(cmd, f) },
	}
	fs := cmd.Flags()
	tag := imageTag()
	fs.StringVar(&f.image, "image", "ghcr.io/cairnbackup/cairn-controller:"+tag, "controller image")
	fs.StringVar(&f.agentImage, "agent-image", "ghcr.io/cairnbackup/cairn-agent:"+tag, "node agent image")
	fs.BoolVar(&f.dryRun, "dry-run", false, "print the objects instead of applying them")
	fs.StringVarP(&f.output, "output", "o", "", "with --dry-run: yaml or json")
	fs.BoolVar(&f.wait, "wait", false, "wait until the controller and every agent pod are ready")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "how long --wait waits")
	fs.StringVar(&f.locationName, "location-name", "default", "name of the location --location-url creates")
	f.location.add(cmd, "location-url")
	return cmd
}

func (e *env) runInstall(cmd *cobra.Command, f *installFlags) error {
	if f.output != "" && f.output != outYAML && f.output != outJSON {
		return usageErrorf("install -o %q: use yaml or json (with --dry-run)", f.output)
	}
	if f.output != "" && !f.dryRun {
		return usageErrorf("install -o prints objects only with --dry-run")
	}
	objs, err := installObjects(e.namespace, images{controller: f.image, agent: f.agentImage})
	if err != nil {
		return err
	}
	var plan *locationPlan
	if f.location.url != "" {
		if err := checkName("location", f.locationName); err != nil {
			return err
		}
		if plan, err = e.planLocation(ctxOf(cmd), f.locationName, &f.location, f.dryRun); err != nil {
			return err
		}
	} else if f.location.passwordFile != "" || f.location.credentialsFile != "" {
		return usageErrorf("--password-file and --credentials-file belong to the first location; add --location-url")
	}
	if f.dryRun {
		return e.printInstall(objs, plan, f.output)
	}
	if err := e.applyInstall(cmd, objs, plan); err != nil {
		return err
	}
	if f.wait {
		if err := e.waitInstalled(cmd, objs, f.timeout); err != nil {
			return err
		}
	}
	printf(e.cfg.Out, "cairn is installed in namespace %s.", e.namespace)
	if plan == nil {
		printf(e.cfg.Out, " Add a location with `cairn location create default --url URL`.")
	}
	printf(e.cfg.Out, "\n")
	return nil
}

// printInstall writes what install would apply. Secrets are replaced by
// the commands that create them.
func (e *env) printInstall(objs []*unstructured.Unstructured, plan *locationPlan, format string) error {
	all := objs
	if plan != nil {
		u, err := toUnstructured(plan.location)
		if err != nil {
			return err
		}
		all = append(all, u)
		printf(e.cfg.Err, "# The location's Secrets are not printed: they hold the repository password and S3 keys. Create them with:\n")
		for _, c := range plan.secretCommands {
			printf(e.cfg.Err, "#   %s\n", c)
		}
	}
	switch format {
	case outJSON:
		items := make([]client.Object, len(all))
		for i, o := range all {
			items[i] = o
		}
		raw, err := json.MarshalIndent(kubeList{APIVersion: "v1", Kind: "List", Items: items}, "", "    ")
		if err != nil {
			return fmt.Errorf("encode objects: %w", err)
		}
		printf(e.cfg.Out, "%s\n", raw)
	case outYAML:
		for _, o := range all {
			raw, err := yaml.Marshal(o.Object)
			if err != nil {
				return fmt.Errorf("encode %s: %w", resourceName(o), err)
			}
			printf(e.cfg.Out, "---\n%s", raw)
		}
	default:
		for _, o := range all {
			printf(e.cfg.Out, "%s (dry run)\n", resourceName(o))
		}
	}
	return nil
}

// applyInstall applies the manifests, waits for the CRDs, then applies the
// location and its Secrets.
func (e *env) applyInstall(cmd *cobra.Command, objs []*unstructured.Unstructured, plan *locationPlan) error {
	ctx := ctxOf(cmd)
	c, err := e.kube()
	if err != nil {
		return err
	}
	for _, o := range objs {
		if err := e.applyAndReport(ctx, c, o); err != nil {
			return err
		}
	}
	if plan == nil {
		return nil
	}
	if err := waitEstablished(ctx, c, objs, time.Minute); err != nil {
		return err
	}
	e.resetClient() // the new CRDs' kinds are discovered afresh
	if c, err = e.kube(); err != nil {
		return err
	}
	for _, s := range plan.secrets {
		if err := e.applyAndReport(ctx, c, s); err != nil {
			return err
		}
	}
	if err := e.applyAndReport(ctx, c, plan.location); err != nil {
		return err
	}
	for _, n := range plan.notes {
		printf(e.cfg.Out, "%s\n", n)
	}
	return nil
}

func (e *env) applyAndReport(ctx context.Context, c client.Client, o client.Object) error {
	res, err := applyReport(ctx, c, o)
	if err != nil {
		return err
	}
	u, _ := toUnstructured(o)
	printf(e.cfg.Out, "%s %s\n", resourceName(u), res)
	return nil
}

// imageTag is the tag of the default images: the release this CLI is, or
// latest for a development build.
func imageTag() string {
	v := version().Version
	if strings.HasPrefix(v, "v") && !strings.Contains(v, "devel") {
		return v
	}
	return "latest"
}
