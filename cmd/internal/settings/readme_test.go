package settings

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"batchinfer/cmd/internal/modelflags"
	"batchinfer/cmd/internal/tfflags"
	"batchinfer/gateway"
	"batchinfer/internal/config"
	"batchinfer/worker"
)

// The README's settings tables are generated from the registrations; this
// test fails when they drift. UPDATE_README=1 rewrites them.
func TestREADMESettingsTables(t *testing.T) {
	var (
		g  gateway.Config
		w  worker.Config
		mf modelflags.Flags
		tf tfflags.Flags
		st Standalone
		d  Process
	)
	gs, ws, ss := config.New("gateway"), config.New("worker"), config.New("standalone")
	Gateway(gs, &g, &d)
	Worker(ws, &w, &d)
	mf.Register(ws)
	tf.Register(ws)
	st.Own(ss)
	tables := map[string]string{"gateway": gs.Markdown(), "worker": ws.Markdown(), "standalone": ss.Markdown()}

	path := filepath.Join("..", "..", "..", "README.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for name, table := range tables {
		open, end := "<!-- settings:"+name+" -->\n", "<!-- /settings:"+name+" -->"
		i, j := strings.Index(doc, open), strings.Index(doc, end)
		if i < 0 || j < i {
			t.Fatalf("README.md has no %s…%s section", strings.TrimSpace(open), end)
		}
		doc = doc[:i+len(open)] + table + doc[j:]
	}
	if doc == string(b) {
		return
	}
	if os.Getenv("UPDATE_README") == "1" {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("README.md's settings tables are out of date: run UPDATE_README=1 go test ./cmd/internal/settings")
}
