package dashboard

import (
	"io/fs"
	"net/http"
)

// csp allows only the dashboard's own script, style and stream: no inline
// script, nothing from another origin, no framing.
const csp = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// Handler serves the dashboard: pages, their streams, the static files,
// and with the token check the login form.
func (s *Server) Handler() http.Handler {
	static, err := fs.Sub(assets, "assets/static")
	if err != nil {
		panic(err) // the embedded tree is fixed at build time
	}
	pages := http.NewServeMux()
	pages.Handle("GET /{$}", s.serve1(s.overviewPage))
	pages.Handle("GET /backups/{ns}/{name}", s.serve1(s.backupPage))
	pages.Handle("GET /restores/{ns}/{name}", s.serve1(s.restorePage))
	pages.Handle("GET /locations/{ns}/{name}", s.serve1(s.locationPage))
	pages.Handle("GET /schedules/{ns}/{name}", s.serve1(s.schedulePage))
	pages.Handle("GET /", s.serve1(func(r *http.Request) *page {
		return errorPage(http.StatusNotFound, "there is no page %s", r.URL.Path)
	}))
	var protected http.Handler = pages
	root := http.NewServeMux()
	if s.auth != nil {
		protected = s.auth.wrap(pages)
		root.HandleFunc("POST /login", s.auth.login)
		root.HandleFunc("POST /logout", logout)
	}
	root.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	root.Handle("GET /", protected)
	return headers(root)
}

// serve1 serves one page, or its stream to EventSource.
func (s *Server) serve1(build builder) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if wantsStream(r) {
			s.stream(w, r, build)
			return
		}
		s.pages.write(w, build(r))
	})
}

func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		next.ServeHTTP(w, r)
	})
}
