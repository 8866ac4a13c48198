package gateway

import (
	"batchinfer/api"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// spaHandler serves the built web UI from dir: hashed assets are cached for
// a year, index.html never, and unknown paths fall back to index.html so the
// client-side router handles them.
func spaHandler(dir string) http.Handler {
	fs := http.FileServer(http.Dir(dir))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("Content-Security-Policy", "default-src 'self'; connect-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		clean := path.Clean("/" + r.URL.Path)
		if strings.HasPrefix(clean, "/v1/") {
			api.WriteError(w, api.Errorf(api.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
			return
		}
		if clean == "/v2" || strings.HasPrefix(clean, "/v2/") {
			api.WriteOIPError(w, api.Errorf(api.CodeNotFound, "no route for %s %s", r.Method, r.URL.Path))
			return
		}
		if st, err := os.Stat(filepath.Join(dir, filepath.FromSlash(clean))); err != nil || st.IsDir() {
			h.Set("Cache-Control", "no-cache")
			http.ServeFile(w, r, filepath.Join(dir, "index.html"))
			return
		}
		if strings.HasPrefix(clean, "/assets/") {
			h.Set("Cache-Control", "public, max-age=31536000, immutable")
		} else {
			h.Set("Cache-Control", "no-cache")
		}
		fs.ServeHTTP(w, r)
	})
}
