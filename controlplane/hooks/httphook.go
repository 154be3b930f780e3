package hooks

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// drainBytes bounds how much of an answer is read so that the connection
// can be reused; a larger answer is dropped with its connection.
const drainBytes = 64 << 10

// httpTarget is the URL an HTTP hook POSTs to.
func httpTarget(podIP string, a *HTTPAction) (*url.URL, error) {
	if a.URL != "" {
		u, err := url.Parse(a.URL)
		if err != nil {
			return nil, errors.New("the hook's url does not parse")
		}
		return u, nil
	}
	if podIP == "" {
		return nil, errors.New("the pod has no IP yet (is it running?)")
	}
	return &url.URL{
		Scheme: a.Scheme,
		Host:   net.JoinHostPort(podIP, strconv.Itoa(int(a.Port))),
		Path:   a.Path,
	}, nil
}

// describeTarget names the target for messages, without credentials or a
// query string, which may carry tokens.
func describeTarget(podIP string, a *HTTPAction) string {
	u, err := httpTarget(podIP, a)
	if err != nil {
		if a.URL != "" {
			return "<unparsable url>"
		}
		return fmt.Sprintf("%s://<pod IP>:%d%s", a.Scheme, a.Port, a.Path)
	}
	return redact(u)
}

func redact(u *url.URL) string {
	c := *u
	c.User, c.RawQuery, c.Fragment = nil, "", ""
	return c.String()
}

// runHTTP POSTs the hook's body and checks the answer's status. It returns
// the head of the answer's body.
func (r *Runner) runHTTP(ctx context.Context, podIP string, a *HTTPAction) (string, error) {
	u, err := httpTarget(podIP, a)
	if err != nil {
		return "", err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), strings.NewReader(a.Body))
	if err != nil {
		return "", fmt.Errorf("build request: %v", err)
	}
	req.Header.Set("Content-Type", "application/json")
	client := r.HTTP
	if client == nil {
		client = defaultHTTPClient
	}
	resp, err := client.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // url.Error quotes the full URL, query and all
		}
		return "", fmt.Errorf("request: %v", err)
	}
	defer resp.Body.Close()
	head, _ := io.ReadAll(io.LimitReader(resp.Body, keptOutputBytes))
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, drainBytes))
	body := string(head)
	if resp.StatusCode != a.ExpectStatus {
		msg := fmt.Sprintf("answered %d, want %d", resp.StatusCode, a.ExpectStatus)
		if s := oneLine(body); s != "" {
			msg += ": " + s
		}
		return body, errors.New(msg)
	}
	return body, nil
}
