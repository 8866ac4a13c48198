package codelint

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/fzipp/gocyclo"
)

// Limits of every function outside the exempt files.
const (
	maxLines      = 60
	maxComplexity = 15
)

// exempt are the input parsers (hand-written scanners over bytes).
var exempt = map[string]bool{
	"gateway/input/decode.go": true,
	"gateway/input/split.go":  true,
	"model/image.go":          true,
}

func root(t *testing.T) string {
	_, file, _, _ := runtime.Caller(0)
	r, err := filepath.Abs(filepath.Join(filepath.Dir(file), "..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// sources lists the project's Go files that are not tests, generated or
// vendored code.
func sources(t *testing.T) []string {
	t.Helper()
	r := root(t)
	var out []string
	err := filepath.WalkDir(r, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", ".git", ".cache", "testdata", "bin", "dist":
				return filepath.SkipDir
			}
			return nil
		}
		rel, _ := filepath.Rel(r, p)
		if strings.HasSuffix(p, ".go") && !strings.HasSuffix(p, "_test.go") && !exempt[filepath.ToSlash(rel)] {
			out = append(out, p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestFunctionsFitOnAScreen(t *testing.T) {
	r := root(t)
	for _, p := range sources(t) {
		fs := token.NewFileSet()
		f, err := parser.ParseFile(fs, p, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(r, p)
		for _, d := range f.Decls {
			fd, ok := d.(*ast.FuncDecl)
			if !ok || fd.Body == nil {
				continue
			}
			if n := fs.Position(fd.End()).Line - fs.Position(fd.Pos()).Line + 1; n > maxLines {
				t.Errorf("%s: %s is %d lines (at most %d): split it into named parts", rel, fd.Name.Name, n, maxLines)
			}
		}
		for _, st := range gocyclo.AnalyzeASTFile(f, fs, nil) {
			if st.Complexity > maxComplexity {
				t.Errorf("%s: %s has cyclomatic complexity %d (at most %d)", rel, st.FuncName, st.Complexity, maxComplexity)
			}
		}
	}
}
