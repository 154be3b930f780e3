package realnode

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"time"
)

// S3 is a versitygw server on the Service address, where pods reach it
// through their gateway and the test reaches it on the host.
type S3 struct {
	Endpoint, Region, Bucket string
	AccessKey, SecretKey     string
}

// StartS3 runs versitygw (from the tools directory) over a directory of
// the harness, with one bucket. It stops with the cluster.
func (c *Cluster) StartS3(bucket string) (*S3, error) {
	root := filepath.Join(c.dir, "s3")
	if err := os.MkdirAll(filepath.Join(root, bucket), 0o755); err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", ServiceIP+":0")
	if err != nil {
		return nil, fmt.Errorf("find a port on %s: %w", ServiceIP, err)
	}
	addr := l.Addr().String()
	l.Close()
	s := &S3{Endpoint: "http://" + addr, Region: "us-east-1", Bucket: bucket, AccessKey: "cairn" + randomToken()[:8], SecretKey: randomToken()}
	d, err := startDaemon(c.logDir, "versitygw", c.tool("versitygw"),
		[]string{"--port", addr, "--quiet", "--region", s.Region, "posix", root},
		[]string{"ROOT_ACCESS_KEY=" + s.AccessKey, "ROOT_SECRET_KEY=" + s.SecretKey})
	if err != nil {
		return nil, err
	}
	c.daemons = append(c.daemons, d)
	err = waitFor(30*time.Second, "versitygw listening on "+addr, func() (bool, error) {
		conn, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false, err
		}
		conn.Close()
		return true, nil
	})
	return s, err
}

// CredentialsFile writes the S3 keys as the cairn CLI's --credentials-file
// reads them.
func (s *S3) CredentialsFile(dir string) (string, error) {
	p := filepath.Join(dir, "s3.env")
	body := "AWS_ACCESS_KEY_ID=" + s.AccessKey + "\nAWS_SECRET_ACCESS_KEY=" + s.SecretKey + "\n"
	return p, os.WriteFile(p, []byte(body), 0o600)
}
