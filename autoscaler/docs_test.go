package autoscaler

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"batchinfer/internal/config"
)

// docs/autoscaler.md's settings table is generated from the registrations;
// this test fails when it drifts. UPDATE_DOCS=1 rewrites it.
func TestDocsSettingsTable(t *testing.T) {
	var c Config
	s := config.New("autoscaler")
	c.Flags(s)
	path := filepath.Join("..", "docs", "autoscaler.md")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	open, end := "<!-- settings:autoscaler -->\n", "<!-- /settings:autoscaler -->"
	i, j := strings.Index(doc, open), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s has no %s…%s section", path, strings.TrimSpace(open), end)
	}
	doc = doc[:i+len(open)] + s.Markdown() + doc[j:]
	if doc == string(b) {
		return
	}
	if os.Getenv("UPDATE_DOCS") == "1" {
		if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Fatal("docs/autoscaler.md's settings table is out of date: run UPDATE_DOCS=1 go test ./autoscaler -run DocsSettings")
}
