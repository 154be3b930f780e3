package cli

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// locationFlags describe a location; install and location create share
// them (install names the URL flag --location-url).
type locationFlags struct {
	url, s3Endpoint, s3Region, caFile string
	s3PathStyle                       bool
	credentialsFile, passwordFile     string
	accessMode, compression           string
	maintenance                       string
	validation                        time.Duration
}

func (f *locationFlags) add(cmd *cobra.Command, urlFlag string) {
	fs := cmd.Flags()
	fs.StringVar(&f.url, urlFlag, "", "repository URL: s3://BUCKET/PREFIX, or file:///PATH (a directory the controller and agents all see)")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "S3 endpoint, http(s)://host:port (default AWS)")
	fs.StringVar(&f.s3Region, "s3-region", "", "S3 region")
	fs.BoolVar(&f.s3PathStyle, "s3-path-style", true, "use path-style S3 URLs, as most non-AWS servers need")
	fs.StringVar(&f.caFile, "s3-ca-file", "", "PEM file of the CA that signed the S3 server's certificate")
	fs.StringVar(&f.credentialsFile, "credentials-file", "", "S3 credentials: an AWS credentials file ([default] aws_access_key_id=...) or AWS_ACCESS_KEY_ID=... lines")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the repository password (default: keep the existing Secret, else generate one)")
	fs.StringVar(&f.accessMode, "access-mode", "ReadWrite", "ReadWrite, or ReadOnly to restore from another cluster's location without writing to it")
	fs.StringVar(&f.compression, "compression", "", "compression of a new repository: off, fastest, default or better")
	fs.StringVar(&f.maintenance, "maintenance-schedule", "", "cron expression (UTC) on which prune runs (default \"0 3 * * *\")")
	fs.DurationVar(&f.validation, "validation-interval", 0, "how often the location is checked (default 1m)")
}

// locationPlan is what creating a location applies.
type locationPlan struct {
	location *v1alpha1.BackupLocation
	// secrets to apply; empty when the existing ones are kept.
	secrets []*corev1.Secret
	// secretCommands create the Secrets by hand (install --dry-run prints
	// them instead of their values).
	secretCommands []string
	notes          []string
}

var (
	urlPattern      = regexp.MustCompile(`^(s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/.*)?|file:///.+|/.+)$`)
	endpointPattern = regexp.MustCompile(`^https?://[^/]+/?$`)
)

func passwordSecretName(loc string) string    { return loc + "-repo-password" }
func credentialsSecretName(loc string) string { return loc + "-s3-credentials" }

// planLocation checks the flags and builds the location and its Secrets.
// Offline (install --dry-run) it reads nothing from the cluster.
func (e *env) planLocation(ctx context.Context, name string, f *locationFlags, offline bool) (*locationPlan, error) {
	loc, err := f.location(e.namespace, name)
	if err != nil {
		return nil, err
	}
	p := &locationPlan{location: loc}
	if err := e.planPassword(ctx, p, f, offline); err != nil {
		return nil, err
	}
	if f.credentialsFile != "" {
		creds, err := readCredentials(f.credentialsFile)
		if err != nil {
			return nil, err
		}
		sec := newSecret(e.namespace, credentialsSecretName(name), name, creds)
		p.secrets = append(p.secrets, sec)
		loc.Spec.CredentialsSecret = sec.Name
		p.secretCommands = append(p.secretCommands, fmt.Sprintf("kubectl -n %s create secret generic %s --from-env-file=ENV_FILE_WITH_AWS_ACCESS_KEY_ID_AND_AWS_SECRET_ACCESS_KEY",
			e.namespace, sec.Name))
	}
	return p, nil
}

// location builds the BackupLocation from the flags.
func (f *locationFlags) location(ns, name string) (*v1alpha1.BackupLocation, error) {
	if !urlPattern.MatchString(f.url) {
		return nil, usageErrorf("location URL %q is not s3://BUCKET[/PREFIX] (bucket in lower case), file:///PATH or /PATH", f.url)
	}
	isS3 := strings.HasPrefix(f.url, "s3://")
	if !isS3 && (f.s3Endpoint != "" || f.credentialsFile != "" || f.caFile != "") {
		return nil, usageErrorf("--s3-endpoint, --s3-ca-file and --credentials-file apply to s3:// locations only, and %q is not one", f.url)
	}
	mode := v1alpha1.AccessMode(f.accessMode)
	if mode != v1alpha1.AccessReadWrite && mode != v1alpha1.AccessReadOnly {
		return nil, usageErrorf("--access-mode %q is neither ReadWrite nor ReadOnly", f.accessMode)
	}
	switch f.compression {
	case "", "off", "fastest", "default", "better":
	default:
		return nil, usageErrorf("--compression %q is not off, fastest, default or better", f.compression)
	}
	loc := &v1alpha1.BackupLocation{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns},
		Spec: v1alpha1.BackupLocationSpec{URL: f.url, AccessMode: mode, Compression: f.compression, MaintenanceSchedule: f.maintenance,
			PasswordSecretRef: v1alpha1.SecretKeyRef{Name: passwordSecretName(name), Key: "password"}},
	}
	if f.validation > 0 {
		loc.Spec.ValidationInterval = &metav1.Duration{Duration: f.validation}
	}
	if isS3 {
		if f.s3Endpoint != "" && !endpointPattern.MatchString(f.s3Endpoint) {
			return nil, usageErrorf("--s3-endpoint %q is not http(s)://host[:port]", f.s3Endpoint)
		}
		loc.Spec.S3 = &v1alpha1.S3Options{Endpoint: f.s3Endpoint, Region: f.s3Region, PathStyle: f.s3PathStyle}
		if f.caFile != "" {
			ca, err := os.ReadFile(f.caFile)
			if err != nil {
				return nil, fmt.Errorf("read --s3-ca-file: %w", err)
			}
			loc.Spec.S3.CABundle = ca
		}
	}
	return loc, nil
}

// planPassword decides the password Secret. A Secret that exists is never
// overwritten with another password: the repository opens only with the
// one it was made with.
func (e *env) planPassword(ctx context.Context, p *locationPlan, f *locationFlags, offline bool) error {
	name := p.location.Spec.PasswordSecretRef.Name
	var pw []byte
	if f.passwordFile != "" {
		var err error
		if pw, err = readPassword(f.passwordFile); err != nil {
			return err
		}
	}
	p.secretCommands = append(p.secretCommands, fmt.Sprintf("kubectl -n %s create secret generic %s --from-file=password=PASSWORD_FILE", e.namespace, name))
	if offline {
		return nil
	}
	existing, err := e.existingSecret(ctx, name)
	if err != nil {
		return err
	}
	switch {
	case existing != nil && pw != nil && string(existing.Data["password"]) != string(pw):
		return fmt.Errorf("the Secret %s/%s already holds a different repository password for location %s; a repository opens only with the password it was created with, "+
			"so leave out --password-file to keep the Secret (or delete the Secret first if you mean to start a new repository)", e.namespace, name, p.location.Name)
	case existing != nil:
		p.notes = append(p.notes, fmt.Sprintf("Kept the repository password in Secret %s/%s.", e.namespace, name))
		return nil
	case pw == nil:
		pw = make([]byte, 32)
		if _, err := rand.Read(pw); err != nil {
			return fmt.Errorf("generate a repository password: %w", err)
		}
		pw = []byte(base64.RawURLEncoding.EncodeToString(pw))
		p.notes = append(p.notes, fmt.Sprintf("Generated a repository password into Secret %s/%s. Keep a copy outside the cluster: without it the backups cannot be read.\n"+
			"  kubectl -n %s get secret %s -o jsonpath='{.data.password}' | base64 -d", e.namespace, name, e.namespace, name))
	}
	p.secrets = append(p.secrets, newSecret(e.namespace, name, p.location.Name, map[string][]byte{"password": pw}))
	return nil
}

func (e *env) existingSecret(ctx context.Context, name string) (*corev1.Secret, error) {
	c, err := e.kube()
	if err != nil {
		return nil, err
	}
	var s corev1.Secret
	err = c.Get(ctx, client.ObjectKey{Namespace: e.namespace, Name: name}, &s)
	if apierrors.IsNotFound(err) && !namespaceMissing(err) {
		return nil, nil
	}
	if namespaceMissing(err) {
		return nil, nil // install creates the namespace first
	}
	if err != nil {
		return nil, fmt.Errorf("read Secret %s/%s: %w", e.namespace, name, err)
	}
	return &s, nil
}

func newSecret(ns, name, loc string, data map[string][]byte) *corev1.Secret {
	return &corev1.Secret{
		TypeMeta: metav1.TypeMeta{APIVersion: "v1", Kind: "Secret"},
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: ns, Labels: map[string]string{
			v1alpha1.LabelLocation: loc, "app.kubernetes.io/managed-by": "cairn"}},
		Type: corev1.SecretTypeOpaque,
		Data: data,
	}
}

// readPassword reads a password file's first line.
func readPassword(path string) ([]byte, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read --password-file: %w", err)
	}
	pw, _, _ := strings.Cut(string(raw), "\n")
	pw = strings.TrimRight(pw, "\r")
	if pw == "" {
		return nil, usageErrorf("--password-file %s is empty; put the repository password on its first line", path)
	}
	return []byte(pw), nil
}

// readCredentials parses an AWS credentials file (its [default] profile,
// else its only one) or KEY=VALUE lines. Errors name lines, never values.
func readCredentials(path string) (map[string][]byte, error) {
	profiles, err := parseCredentials(path)
	if err != nil {
		return nil, err
	}
	var pick map[string][]byte
	switch {
	case profiles["default"] != nil:
		pick = profiles["default"]
	case profiles[""] != nil:
		pick = profiles[""]
	case len(profiles) == 1:
		for _, p := range profiles {
			pick = p
		}
	case len(profiles) > 1:
		return nil, usageErrorf("--credentials-file %s has several profiles and no [default]; keep only the one cairn should use", path)
	}
	if len(pick["AWS_ACCESS_KEY_ID"]) == 0 || len(pick["AWS_SECRET_ACCESS_KEY"]) == 0 {
		return nil, usageErrorf("--credentials-file %s holds no access key ID and secret access key (aws_access_key_id and aws_secret_access_key, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)", path)
	}
	return pick, nil
}

// credentialKeys maps the names a credentials file may use to the keys of
// the Secret the controller reads.
var credentialKeys = map[string]string{"aws_access_key_id": "AWS_ACCESS_KEY_ID", "aws_secret_access_key": "AWS_SECRET_ACCESS_KEY",
	"aws_session_token": "AWS_SESSION_TOKEN"}

// parseCredentials reads the known keys of every profile ("" for lines
// before any [profile] header).
func parseCredentials(path string) (map[string]map[string][]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read --credentials-file: %w", err)
	}
	defer f.Close()
	profiles := map[string]map[string][]byte{}
	profile := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			profile = strings.TrimSpace(strings.TrimPrefix(line[1:len(line)-1], "profile "))
			continue
		}
		k, v, ok := strings.Cut(strings.TrimPrefix(line, "export "), "=")
		if !ok {
			return nil, usageErrorf("--credentials-file %s: line %d is neither KEY=VALUE nor [profile]", path, n)
		}
		key, known := credentialKeys[strings.ToLower(strings.TrimSpace(k))]
		if !known {
			continue
		}
		if profiles[profile] == nil {
			profiles[profile] = map[string][]byte{}
		}
		profiles[profile][key] = []byte(strings.Trim(strings.TrimSpace(v), `"'`))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read --credentials-file: %w", err)
	}
	return profiles, nil
}
