package dashboard_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	authnv1 "k8s.io/api/authentication/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/cairnbackup/cairn/controlplane/dashboard"
)

// With the token check, a request needs a token the API server accepts,
// whose user may get backups.cairn.dev in the dashboard's namespace; a
// browser gets a login form that keeps the token in a cookie.
func TestTokenCheck(t *testing.T) {
	f := start(t, func(c *dashboard.Config) { c.Auth = dashboard.AuthToken })
	outsider, reader := f.serviceAccountToken(t, "outsider"), f.serviceAccountToken(t, "reader")
	f.create(t, &rbacv1.Role{ObjectMeta: f.meta("backup-viewer", nil), Rules: []rbacv1.PolicyRule{{
		APIGroups: []string{"cairn.dev"}, Resources: []string{"backups"}, Verbs: []string{"get"}}}})
	f.create(t, &rbacv1.RoleBinding{ObjectMeta: f.meta("reader-views", nil),
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "Role", Name: "backup-viewer"},
		Subjects: []rbacv1.Subject{{Kind: "ServiceAccount", Name: "reader", Namespace: f.ns}}})
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	do := func(req *http.Request) (*http.Response, string) {
		t.Helper()
		resp, err := noRedirect.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp, string(b)
	}
	page := func(token, accept string) (*http.Response, string) {
		req, _ := http.NewRequest(http.MethodGet, f.base+"/", nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if accept != "" {
			req.Header.Set("Accept", accept)
		}
		return do(req)
	}
	for _, c := range []struct {
		name, token, accept string
		status              int
		want                string
	}{
		{"no token, a browser", "", "text/html", http.StatusUnauthorized, `<form method="post" action="/login">`},
		{"no token, a program", "", "", http.StatusUnauthorized, "a bearer token is required"},
		{"a made-up token", "not-a-token", "", http.StatusUnauthorized, "does not accept this token"},
		{"a user without the right", outsider, "", http.StatusForbidden, "may not get backups.cairn.dev in namespace " + f.ns},
		{"a user with the right", reader, "", http.StatusOK, `data-location="default"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp, body := page(c.token, c.accept)
			if resp.StatusCode != c.status || !strings.Contains(body, c.want) {
				t.Fatalf("status %d, want %d with %q:\n%s", resp.StatusCode, c.status, c.want, body)
			}
		})
	}
	t.Run("login form and cookie", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodPost, f.base+"/login", strings.NewReader(url.Values{"token": {reader}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, _ := do(req)
		cookies := resp.Cookies()
		if resp.StatusCode != http.StatusSeeOther || len(cookies) != 1 || !cookies[0].HttpOnly || cookies[0].SameSite != http.SameSiteStrictMode {
			t.Fatalf("login: %d, cookies %v", resp.StatusCode, cookies)
		}
		req, _ = http.NewRequest(http.MethodGet, f.base+"/backups/"+f.ns+"/b-done", nil)
		req.AddCookie(cookies[0])
		if resp, body := do(req); resp.StatusCode != http.StatusOK || !strings.Contains(body, "b-done") {
			t.Fatalf("with the cookie: %d\n%s", resp.StatusCode, body)
		}
	})
	t.Run("static files need no token", func(t *testing.T) {
		req, _ := http.NewRequest(http.MethodGet, f.base+"/static/live.js", nil)
		if resp, _ := do(req); resp.StatusCode != http.StatusOK {
			t.Fatalf("live.js: %d", resp.StatusCode)
		}
	})
}

func (f *fixture) serviceAccountToken(t *testing.T, name string) string {
	t.Helper()
	f.create(t, &corev1.ServiceAccount{ObjectMeta: f.meta(name, nil)})
	cs, err := kubernetes.NewForConfig(env.Config)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := cs.CoreV1().ServiceAccounts(f.ns).CreateToken(context.Background(), name, &authnv1.TokenRequest{}, metav1.CreateOptions{})
	if err != nil {
		t.Fatalf("token of ServiceAccount %s: %v", name, err)
	}
	return tr.Status.Token
}
