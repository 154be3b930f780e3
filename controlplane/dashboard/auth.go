package dashboard

import (
	"context"
	"crypto/sha256"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authnv1 "k8s.io/api/authentication/v1"
	authzv1 "k8s.io/api/authorization/v1"

	"github.com/cairnbackup/cairn/controlplane/api/v1alpha1"
)

// tokenCookie carries the token the login form was given.
const tokenCookie = "cairn-dashboard-token"

// How long a review's answer is reused, so a live page does not cost two
// API requests every few seconds, yet a revoked token or a removed role
// stops working within a minute.
const (
	allowedFor = time.Minute
	deniedFor  = 10 * time.Second
	// maxDecisions bounds the cache against a flood of made-up tokens.
	maxDecisions = 1024
)

// decision is what the API server said of one token.
type decision struct {
	status int // 200, 401 or 403
	user   string
	msg    string
	until  time.Time
}

// authenticator checks bearer tokens with TokenReview and the user's
// right to get backups.cairn.dev with SubjectAccessReview.
type authenticator struct {
	reviewer  Reviewer
	namespace string
	clock     Clock
	pages     *renderer

	mu    sync.Mutex
	cache map[[sha256.Size]byte]decision
}

func newAuthenticator(r Reviewer, namespace string, clock Clock, pages *renderer) *authenticator {
	return &authenticator{reviewer: r, namespace: namespace, clock: clock, pages: pages, cache: map[[sha256.Size]byte]decision{}}
}

// token is the request's bearer token: the Authorization header (from a
// client or an authenticating proxy), else the login cookie.
func token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
	}
	if c, err := r.Cookie(tokenCookie); err == nil {
		return c.Value
	}
	return ""
}

// wrap lets through requests whose token may get backups; others get the
// login page (browsers) or a plain 401/403.
func (a *authenticator) wrap(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t := token(r)
		if t == "" {
			a.refuse(w, r, decision{status: http.StatusUnauthorized, msg: "a bearer token is required"})
			return
		}
		if d := a.decide(r.Context(), t); d.status != http.StatusOK {
			a.refuse(w, r, d)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *authenticator) refuse(w http.ResponseWriter, r *http.Request, d decision) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="cairn dashboard"`)
	if strings.Contains(r.Header.Get("Accept"), "text/html") {
		a.pages.write(w, &page{Title: "Log in", Template: "login", Status: d.status, Data: loginView{Message: d.msg, Namespace: a.scope()}})
		return
	}
	http.Error(w, d.msg, d.status)
}

func (a *authenticator) scope() string {
	if a.namespace == "" {
		return "all namespaces"
	}
	return "namespace " + a.namespace
}

type loginView struct{ Message, Namespace string }

// login checks the posted token and, if it may see the dashboard, keeps
// it in an HttpOnly, same-site cookie.
func (a *authenticator) login(w http.ResponseWriter, r *http.Request) {
	t := strings.TrimSpace(r.PostFormValue("token"))
	if t == "" {
		a.refuse(w, r, decision{status: http.StatusUnauthorized, msg: "paste a token"})
		return
	}
	if d := a.decide(r.Context(), t); d.status != http.StatusOK {
		a.refuse(w, r, d)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: t, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// decide returns the cached decision on a token, or asks the API server.
func (a *authenticator) decide(ctx context.Context, t string) decision {
	key := sha256.Sum256([]byte(t)) // the cache never holds the token itself
	now := a.clock.Now()
	a.mu.Lock()
	d, ok := a.cache[key]
	a.mu.Unlock()
	if ok && now.Before(d.until) {
		return d
	}
	d = a.review(ctx, t)
	if d.status == http.StatusInternalServerError {
		return d // not cached: the API server may answer next time
	}
	d.until = now.Add(deniedFor)
	if d.status == http.StatusOK {
		d.until = now.Add(allowedFor)
	}
	a.mu.Lock()
	if len(a.cache) >= maxDecisions {
		clear(a.cache)
	}
	a.cache[key] = d
	a.mu.Unlock()
	return d
}

func (a *authenticator) review(ctx context.Context, t string) decision {
	tr := &authnv1.TokenReview{Spec: authnv1.TokenReviewSpec{Token: t}}
	if err := a.reviewer.Create(ctx, tr); err != nil {
		return decision{status: http.StatusInternalServerError, msg: fmt.Sprintf("token review: %v", err)}
	}
	if !tr.Status.Authenticated {
		return decision{status: http.StatusUnauthorized, msg: "the API server does not accept this token"}
	}
	u := tr.Status.User
	extra := map[string]authzv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authzv1.ExtraValue(v)
	}
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: u.Username, UID: u.UID, Groups: u.Groups, Extra: extra,
		ResourceAttributes: &authzv1.ResourceAttributes{Namespace: a.namespace, Verb: "get",
			Group: v1alpha1.GroupVersion.Group, Resource: "backups"}}}
	if err := a.reviewer.Create(ctx, sar); err != nil {
		return decision{status: http.StatusInternalServerError, msg: fmt.Sprintf("access review: %v", err)}
	}
	if !sar.Status.Allowed {
		return decision{status: http.StatusForbidden, user: u.Username,
			msg: fmt.Sprintf("%s may not get backups.cairn.dev in %s; grant it with a Role (or ClusterRole) and binding", u.Username, a.scope())}
	}
	return decision{status: http.StatusOK, user: u.Username}
}
