package location

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// CheckEndpoint validates an S3 endpoint: an http or https URL with a host
// and nothing after it. s3.Config also takes a bare host:port, but from a
// person a bare word is more likely a typo than a host ("notaurl" would be
// resolved in DNS as https://notaurl), so locations insist on the scheme.
// An empty endpoint means AWS and is valid.
func CheckEndpoint(raw string) error {
	if raw == "" {
		return nil
	}
	const want = "want http://host[:port] or https://host[:port]"
	if !strings.Contains(raw, "://") {
		return fmt.Errorf("s3 endpoint %q: no scheme; %s", raw, want)
	}
	u, err := url.Parse(raw)
	if err != nil {
		return fmt.Errorf("s3 endpoint: not a valid URL; %s", want)
	}
	shown := u.Redacted()
	switch {
	case u.User != nil:
		return fmt.Errorf("s3 endpoint %q: credentials do not belong in the endpoint; use the AWS_* environment variables", shown)
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("s3 endpoint %q: scheme %q; %s", shown, u.Scheme, want)
	case u.Hostname() == "":
		return fmt.Errorf("s3 endpoint %q: no host; %s", shown, want)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return fmt.Errorf("s3 endpoint %q: only a scheme, host and port are allowed; put key prefixes in the repository URL (s3://bucket/prefix)", shown)
	}
	if p := u.Port(); p != "" {
		if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("s3 endpoint %q: port %q is not a number in 1..65535", shown, p)
		}
	}
	return nil
}
