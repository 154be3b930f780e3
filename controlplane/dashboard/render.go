package dashboard

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// assets are the templates, the style sheet and the script: everything
// the browser gets, in the binary ("all:" keeps the _-prefixed layout
// files, which a plain directory pattern would leave out).
//
//go:embed all:assets
var assets embed.FS

// page is what a handler built: a template, its data, and how to send it.
type page struct {
	Title    string
	Template string // a file under assets/templates, without .html
	Data     any
	Status   int // zero means 200
	// Live pages open a stream for updates.
	Live bool
}

// builder makes a page from the cache; it never fails (a failure is an
// error page), so a stream can rebuild it at every change.
type builder func(r *http.Request) *page

func errorPage(status int, format string, args ...any) *page {
	msg := fmt.Sprintf(format, args...)
	return &page{Title: http.StatusText(status), Template: "error", Status: status, Data: msg}
}

// renderer holds one template set per page: the layout and shared parts
// with that page's "content".
type renderer struct {
	sets map[string]*template.Template
}

func newRenderer() (*renderer, error) {
	base, err := template.New("").Funcs(funcs()).ParseFS(assets, "assets/templates/_*.html")
	if err != nil {
		return nil, fmt.Errorf("dashboard: parse layout: %w", err)
	}
	names, err := fs.Glob(assets, "assets/templates/*.html")
	if err != nil {
		return nil, err
	}
	r := &renderer{sets: map[string]*template.Template{}}
	for _, name := range names {
		file := path.Base(name)
		if strings.HasPrefix(file, "_") {
			continue
		}
		set, err := template.Must(base.Clone()).ParseFS(assets, name)
		if err != nil {
			return nil, fmt.Errorf("dashboard: parse %s: %w", file, err)
		}
		r.sets[strings.TrimSuffix(file, ".html")] = set
	}
	return r, nil
}

// content renders the page's main content alone, as a stream sends it.
func (r *renderer) content(p *page) (string, error) {
	var b bytes.Buffer
	if err := r.exec(&b, p, "content"); err != nil {
		return "", err
	}
	return b.String(), nil
}

// write sends the whole page.
func (r *renderer) write(w http.ResponseWriter, p *page) {
	var b bytes.Buffer
	if err := r.exec(&b, p, "layout"); err != nil {
		http.Error(w, "render: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if p.Status != 0 {
		w.WriteHeader(p.Status)
	}
	_, _ = w.Write(b.Bytes())
}

func (r *renderer) exec(b *bytes.Buffer, p *page, name string) error {
	set, ok := r.sets[p.Template]
	if !ok {
		return fmt.Errorf("no template %q", p.Template)
	}
	if err := set.ExecuteTemplate(b, name, p); err != nil {
		return fmt.Errorf("render %s: %w", p.Template, err)
	}
	return nil
}
