package s3

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"
)

// Config locates a bucket and says how to reach it.
type Config struct {
	// Endpoint is "host:port" or a URL "http://host:port" or
	// "https://host:port". A URL's scheme decides TLS; for a bare host,
	// Insecure does. Empty means AWS (s3.amazonaws.com over TLS).
	Endpoint string
	Bucket   string
	// Prefix is prepended, with a "/", to every object name, so several
	// repositories can share a bucket.
	Prefix string
	// Region; empty lets minio-go ask the server for the bucket's region.
	Region string
	// PathStyle forces "endpoint/bucket/key" URLs, which most non-AWS
	// servers need; otherwise minio-go picks (virtual-host style on AWS).
	PathStyle bool
	// Insecure uses plain HTTP for a bare host:port endpoint.
	Insecure bool
	// CACertPEM adds certificate authorities for a server whose TLS
	// certificate is not signed by a system-trusted CA.
	CACertPEM []byte
	// Create makes the bucket when it does not exist (repository init).
	Create bool

	AccessKeyID     string
	SecretAccessKey string
	SessionToken    string

	// Warn, when set, is told once of what the store works around and
	// the user should know: a server that refuses checksum trailers,
	// whose uploads are then signed, hashing every byte.
	Warn func(error)
}

const redacted = "[REDACTED]"

// String prints the config without its credentials, so a Config that ends
// up in a log line or an error leaks nothing.
func (c Config) String() string {
	ak := ""
	if c.AccessKeyID != "" {
		ak = redacted
	}
	return fmt.Sprintf("s3.Config{Endpoint:%q Bucket:%q Prefix:%q Region:%q PathStyle:%t Insecure:%t CACert:%t Create:%t AccessKeyID:%s}",
		c.Endpoint, c.Bucket, c.Prefix, c.Region, c.PathStyle, c.Insecure, len(c.CACertPEM) > 0, c.Create, ak)
}

// GoString keeps %#v as safe as %v.
func (c Config) GoString() string { return c.String() }

// LogValue keeps slog as safe as fmt.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// ConfigFromEnv fills what cfg leaves empty from the standard AWS variables.
// Credentials are taken as a set: a key ID from the config is never paired
// with a secret from the environment.
func ConfigFromEnv(cfg Config) Config {
	if cfg.AccessKeyID == "" && cfg.SecretAccessKey == "" {
		cfg.AccessKeyID = os.Getenv("AWS_ACCESS_KEY_ID")
		cfg.SecretAccessKey = os.Getenv("AWS_SECRET_ACCESS_KEY")
		if cfg.SessionToken == "" {
			cfg.SessionToken = os.Getenv("AWS_SESSION_TOKEN")
		}
	}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_REGION")
	}
	if cfg.Region == "" {
		cfg.Region = os.Getenv("AWS_DEFAULT_REGION")
	}
	return cfg
}

// secrets lists the values translate must never let through.
func (c Config) secrets() []string {
	var out []string
	for _, s := range []string{c.AccessKeyID, c.SecretAccessKey, c.SessionToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

type endpoint struct {
	host   string // host:port as minio-go wants it
	secure bool
}

func (e endpoint) url() string {
	if e.secure {
		return "https://" + e.host
	}
	return "http://" + e.host
}

func parseEndpoint(cfg Config) (endpoint, error) {
	raw := cfg.Endpoint
	switch {
	case raw == "" && cfg.Insecure:
		return endpoint{}, errors.New("s3 endpoint: Insecure needs an explicit endpoint; AWS is only reachable over TLS")
	case raw == "":
		return endpoint{host: "s3.amazonaws.com", secure: true}, nil
	case !strings.Contains(raw, "://"):
		if strings.ContainsAny(raw, "/?#@") {
			return endpoint{}, fmt.Errorf("s3 endpoint %q: want host:port or http(s)://host:port", raw)
		}
		return endpoint{host: raw, secure: !cfg.Insecure}, nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return endpoint{}, fmt.Errorf("s3 endpoint: want host:port or http(s)://host:port: %w", err)
	}
	shown := u.Redacted()
	switch {
	case u.User != nil:
		return endpoint{}, fmt.Errorf("s3 endpoint %q: credentials do not belong in the endpoint URL", shown)
	case u.Host == "":
		return endpoint{}, fmt.Errorf("s3 endpoint %q: no host", shown)
	case (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "":
		return endpoint{}, fmt.Errorf("s3 endpoint %q: want only scheme, host and port; put key prefixes in Prefix", shown)
	case u.Scheme == "http":
		return endpoint{host: u.Host, secure: false}, nil
	case u.Scheme == "https" && cfg.Insecure:
		return endpoint{}, fmt.Errorf("s3 endpoint %q: https conflicts with Insecure", shown)
	case u.Scheme == "https":
		return endpoint{host: u.Host, secure: true}, nil
	}
	return endpoint{}, fmt.Errorf("s3 endpoint %q: scheme must be http or https", shown)
}

const (
	// A refused connection fails at once; dialTimeout bounds the case where
	// packets vanish (a firewall, a wrong IP), so a bad endpoint is reported
	// within a few seconds rather than the OS's minutes.
	dialTimeout = 5 * time.Second
	// Bounds a server that accepted the request and then hung. S3 answers
	// within seconds even after a large upload, so 30 s only cuts off
	// servers that are stuck; retry then tries again.
	responseHeaderTimeout = 30 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	// Enough idle connections for the uploader's parallel streams to reuse
	// theirs instead of redialling.
	maxIdleConnsPerHost = 32
)

func newTransport(secure bool, caPEM []byte) (*http.Transport, error) {
	tr := &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: dialTimeout, KeepAlive: 30 * time.Second}).DialContext,
		TLSHandshakeTimeout:   tlsHandshakeTimeout,
		ResponseHeaderTimeout: responseHeaderTimeout,
		ExpectContinueTimeout: time.Second,
		IdleConnTimeout:       90 * time.Second,
		MaxIdleConns:          256,
		MaxIdleConnsPerHost:   maxIdleConnsPerHost,
		// Objects are opaque bytes; transparent gzip decoding would corrupt
		// any object stored with a Content-Encoding.
		DisableCompression: true,
	}
	if !secure {
		if len(caPEM) > 0 {
			return nil, errors.New("s3: a CA certificate was given for a plain-http endpoint; use https")
		}
		return tr, nil
	}
	tr.TLSClientConfig = &tls.Config{MinVersion: tls.VersionTLS12}
	if len(caPEM) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(caPEM) {
			return nil, errors.New("s3: the CA certificate contains no PEM-encoded certificate")
		}
		tr.TLSClientConfig.RootCAs = pool
	}
	return tr, nil
}
