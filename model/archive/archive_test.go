package archive

import (
	"archive/tar"
	"archive/zip"
	"bytes"
	"compress/gzip"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// entry is one archive entry of a test: a file (body), a directory (dir),
// or a link or device (kind).
type entry struct {
	name string
	body string
	dir  bool
	kind byte // a tar type other than a file or directory
	size int64
}

func tarOf(t *testing.T, es []entry) []byte {
	t.Helper()
	var b bytes.Buffer
	tw := tar.NewWriter(&b)
	for _, e := range es {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case e.dir:
			h.Typeflag, h.Size, h.Mode = tar.TypeDir, 0, 0o755
		case e.kind != 0:
			h.Typeflag, h.Size, h.Linkname = e.kind, 0, "/etc/passwd"
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

func gz(t *testing.T, b []byte) []byte {
	t.Helper()
	var out bytes.Buffer
	zw := gzip.NewWriter(&out)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}

func zipOf(t *testing.T, es []entry) []byte {
	t.Helper()
	var b bytes.Buffer
	zw := zip.NewWriter(&b)
	for _, e := range es {
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		switch {
		case e.dir:
			h.SetMode(0o755 | os.ModeDir)
		case e.kind == tar.TypeSymlink:
			h.SetMode(0o777 | os.ModeSymlink)
		default:
			h.SetMode(0o644)
		}
		w, err := zw.CreateHeader(h)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(e.body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// tflite is the start of a TFLite flatbuffer: its identifier at offset 4.
var tflite = "\x1c\x00\x00\x00TFL3" + strings.Repeat("\x00", 40)

var limits = Limits{MaxBytes: 1 << 20, MaxFiles: 50}

func unpack(t *testing.T, upload []byte, lim Limits) (Result, string, error) {
	t.Helper()
	format, err := Sniff(upload[:min(len(upload), SniffLen)])
	if err != nil {
		return Result{}, "", err
	}
	dir := filepath.Join(t.TempDir(), "x")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r, err := Unpack(bytes.NewReader(upload), format, dir, lim)
	return r, dir, err
}

func TestUnpackAccepts(t *testing.T) {
	saved := []entry{{name: "saved_model.pb", body: "pb"}, {name: "variables/", dir: true},
		{name: "variables/variables.index", body: "i"}, {name: "metadata.json", body: "{}"}}
	nested := []entry{{name: "digits/", dir: true}, {name: "digits/1/saved_model.pb", body: "pb"},
		{name: "digits/1/model.tflite", body: tflite}, {name: "digits/README", body: "r"}}
	for _, tc := range []struct {
		name, upload string
		root         string // the version directory, relative
		files        []string
	}{
		{"tar.gz at the top", string(gz(t, tarOf(t, saved))), ".", []string{"saved_model.pb", "variables/variables.index", "metadata.json"}},
		{"tar with ./ names", string(tarOf(t, []entry{{name: "./", dir: true}, {name: "./model.tflite", body: tflite}})), ".", []string{"model.tflite"}},
		{"tar.gz nested", string(gz(t, tarOf(t, nested))), "digits/1", []string{"saved_model.pb", "model.tflite"}},
		{"zip nested", string(zipOf(t, nested)), "digits/1", []string{"saved_model.pb", "model.tflite"}},
		{"zip of one .tflite named otherwise", string(zipOf(t, []entry{{name: "mnist_v2.tflite", body: tflite}})), ".", []string{"model.tflite"}},
		{"a .tflite file", tflite, ".", []string{"model.tflite"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, dir, err := unpack(t, []byte(tc.upload), limits)
			if err != nil {
				t.Fatal(err)
			}
			if want := filepath.Join(dir, tc.root); r.Root != filepath.Clean(want) {
				t.Fatalf("root %s, want %s", r.Root, want)
			}
			for _, f := range tc.files {
				if _, err := os.Stat(filepath.Join(r.Root, f)); err != nil {
					t.Error(err)
				}
			}
			if r.Bytes <= 0 || r.Files <= 0 {
				t.Errorf("counted %d bytes, %d files", r.Bytes, r.Files)
			}
		})
	}
}

func TestUnpackRefuses(t *testing.T) {
	model := entry{name: "model.tflite", body: tflite}
	bomb := zipOf(t, []entry{model, {name: "zeros", body: strings.Repeat("\x00", 4<<20)}})
	for _, tc := range []struct {
		name, upload, want string
		lim                *Limits
	}{
		{"path traversal", string(gz(t, tarOf(t, []entry{model, {name: "../../etc/cron.d/x", body: "evil"}}))), `entry "../../etc/cron.d/x": ".." is not allowed`, nil},
		{"traversal inside", string(tarOf(t, []entry{{name: "a/../../x", body: "evil"}, model})), `entry "a/../../x": ".." is not allowed`, nil},
		{"zip traversal", string(zipOf(t, []entry{model, {name: "../x", body: "evil"}})), `entry "../x": ".." is not allowed`, nil},
		{"absolute path", string(tarOf(t, []entry{{name: "/etc/passwd", body: "evil"}})), `entry "/etc/passwd": absolute paths are not allowed`, nil},
		{"backslash", string(zipOf(t, []entry{{name: `..\x`, body: "evil"}})), `backslashes are not allowed`, nil},
		{"symlink", string(tarOf(t, []entry{{name: "model.tflite", kind: tar.TypeSymlink}})), `entry "model.tflite" is a symbolic link`, nil},
		{"hard link", string(gz(t, tarOf(t, []entry{model, {name: "x", kind: tar.TypeLink}}))), `entry "x" is a hard link`, nil},
		{"device", string(tarOf(t, []entry{{name: "null", kind: tar.TypeChar}})), `entry "null" is a device`, nil},
		{"zip symlink", string(zipOf(t, []entry{{name: "model.tflite", kind: tar.TypeSymlink, body: "/etc/passwd"}})), `entry "model.tflite" is a symbolic link`, nil},
		{"twice", string(tarOf(t, []entry{model, model})), `entry "model.tflite" appears twice`, nil},
		{"file then directory", string(tarOf(t, []entry{{name: "a", body: "x"}, {name: "a/model.tflite", body: tflite}})), `entry "a" is both a file and a directory`, nil},
		{"zip bomb", string(bomb), "unpacked, the files exceed 1048576 bytes", nil},
		{"too many files", string(tarOf(t, []entry{model, {name: "a", body: "1"}, {name: "b", body: "2"}})), "more than 2 files", &Limits{MaxBytes: 1 << 20, MaxFiles: 2}},
		{"tflite over the limit", tflite, "unpacked, the files exceed 10 bytes", &Limits{MaxBytes: 10, MaxFiles: 2}},
		{"truncated gzip", string(gz(t, tarOf(t, []entry{model, {name: "b", body: noise(9000)}}))[:2000]), "the upload ends early", nil},
		{"corrupt zip", "PK\x03\x04" + strings.Repeat("garbage", 20), "zip archive", nil},
		{"gzip of no tar", string(gz(t, []byte(strings.Repeat("not a tar ", 100)))), "tar archive", nil},
		{"not a model upload", `{"inputs": [1, 2]}`, "not a tar.gz, tar or zip archive", nil},
		{"empty", "", "the upload is empty", nil},
		{"no model", string(gz(t, tarOf(t, []entry{{name: "README", body: "x"}}))), "no model in the upload", nil},
		{"two versions", string(tarOf(t, []entry{{name: "1/model.tflite", body: tflite}, {name: "2/model.tflite", body: tflite}})), "model files in 2 directories (1, 2)", nil},
		{"two .tflite files", string(zipOf(t, []entry{{name: "a.tflite", body: tflite}, {name: "b.tflite", body: tflite}})), "2 .tflite files (a.tflite, b.tflite)", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			lim := limits
			if tc.lim != nil {
				lim = *tc.lim
			}
			_, dir, err := unpack(t, []byte(tc.upload), lim)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want ErrInvalid containing %q", err, tc.want)
			}
			if dir == "" {
				return
			}
			// Nothing was written beside the directory.
			if es, err := os.ReadDir(filepath.Dir(dir)); err != nil || len(es) != 1 {
				t.Fatalf("beside the directory: %v, %v", es, err)
			}
		})
	}
}

// noise is n bytes that do not compress.
func noise(n int) string {
	b := make([]byte, n)
	x := uint32(2463534242)
	for i := range b {
		x ^= x << 13
		x ^= x >> 17
		x ^= x << 5
		b[i] = byte(x)
	}
	return string(b)
}

// failing fails after some bytes, as a dropped connection would.
type failing struct {
	r io.Reader
	n int
}

func (f *failing) Read(p []byte) (int, error) {
	if f.n <= 0 {
		return 0, errors.New("connection lost")
	}
	p = p[:min(len(p), f.n)]
	n, err := f.r.Read(p)
	f.n -= n
	return n, err
}

// A failure to read the upload is not the upload's fault.
func TestUnpackSourceErrorIsNotInvalid(t *testing.T) {
	upload := gz(t, tarOf(t, []entry{{name: "model.tflite", body: tflite + strings.Repeat("x", 20000)}}))
	for _, format := range []string{TarGz, Zip, TFLite} {
		dir := t.TempDir()
		_, err := Unpack(&failing{r: bytes.NewReader(upload), n: 100}, format, dir, limits)
		var se *SourceError
		if err == nil || errors.Is(err, ErrInvalid) || !errors.As(err, &se) {
			t.Errorf("%s: error %v, want a SourceError", format, err)
		}
	}
}

func TestSniff(t *testing.T) {
	for _, tc := range []struct {
		head, want string
	}{
		{"\x1f\x8b\x08", TarGz}, {"PK\x03\x04", Zip}, {"PK\x05\x06", Zip},
		{strings.Repeat("\x00", 257) + "ustar\x0000", Tar}, {tflite, TFLite},
	} {
		if got, err := Sniff([]byte(tc.head)); err != nil || got != tc.want {
			t.Errorf("Sniff(%q) = %q, %v; want %q", clip([]byte(tc.head), 10), got, err, tc.want)
		}
	}
}
