// Package archive unpacks a model version as it is pushed to the registry
// (a tar, tar.gz or zip archive of a version directory, or a .tflite file)
// into a directory, refusing what could harm the machine that unpacks it:
// paths that leave the directory (absolute, "..", backslashes), links and
// device files, entries that appear twice, and more bytes or files than
// the limits allow, however well the archive compresses. It then finds the
// version directory inside: the one directory that holds the model files
// (saved_model.pb and its variables, and/or model.tflite).
//
// Every error the upload's content causes matches ErrInvalid (errors.Is)
// and says what is wrong; any other error is the machine's own (its disk,
// or reading the upload) and not the upload's fault.
package archive

import (
	"bytes"
	"compress/flate"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"

	"batchinfer/model"
)

// Formats of an upload.
const (
	Tar    = "tar"
	TarGz  = "tar.gz"
	Zip    = "zip"
	TFLite = "tflite"
)

// SniffLen is how many leading bytes Sniff needs to tell every format.
const SniffLen = 512

// ErrInvalid is matched by every error the upload's content causes.
var ErrInvalid = errors.New("invalid model upload")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Sniff tells an upload's format from its first bytes (up to SniffLen of
// them): gzip (taken as a gzip-compressed tar), zip, tar (ustar), or a
// TFLite flatbuffer (identifier "TFL3").
func Sniff(head []byte) (string, error) {
	switch {
	case len(head) >= 2 && head[0] == 0x1f && head[1] == 0x8b:
		return TarGz, nil
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return Zip, nil
	case len(head) >= 262 && string(head[257:262]) == "ustar":
		return Tar, nil
	case len(head) >= 8 && string(head[4:8]) == "TFL3":
		return TFLite, nil
	case len(head) == 0:
		return "", invalid("the upload is empty")
	}
	return "", invalid("not a tar.gz, tar or zip archive of a model version, nor a .tflite model (its first bytes are %q)", clip(head, 16))
}

func clip(b []byte, n int) []byte {
	if len(b) > n {
		return b[:n]
	}
	return b
}

// Limits bound what an upload unpacks to.
type Limits struct {
	// MaxBytes bounds the unpacked files together, and a zip archive
	// itself (kept on disk to be read).
	MaxBytes int64
	// MaxFiles bounds the entries (files and directories).
	MaxFiles int
}

// Result is an unpacked version.
type Result struct {
	// Root is the version directory: the one holding the model files.
	Root string
	// Bytes and Files are what was unpacked, in all.
	Bytes int64
	Files int
}

// Unpack unpacks r, an upload of format, into dir (which must exist and
// be empty) within lim, and finds the version directory in it. A .tflite
// upload becomes dir/model.tflite.
func Unpack(r io.Reader, format, dir string, lim Limits) (Result, error) {
	if lim.MaxBytes <= 0 || lim.MaxFiles <= 0 {
		return Result{}, fmt.Errorf("unpack: limits must be positive (%+v)", lim)
	}
	u := &unpacker{dir: dir, lim: lim, seen: map[string]bool{}}
	src := &sourceReader{r: r}
	var err error
	switch format {
	case Tar:
		err = u.tar(src)
	case TarGz:
		err = u.tarGz(src)
	case Zip:
		err = u.zip(src)
	case TFLite:
		u.files = 1
		err = u.file(model.TFLiteFile, src, -1)
	default:
		err = invalid("unknown format %q", format)
	}
	if err != nil {
		return Result{}, err
	}
	root, err := findRoot(dir)
	if err != nil {
		return Result{}, err
	}
	return Result{Root: root, Bytes: u.bytes, Files: u.files}, nil
}

// unpacker writes entries under dir, counting them against lim.
type unpacker struct {
	dir   string
	lim   Limits
	bytes int64
	files int
	seen  map[string]bool
}

// entry checks one entry's name and counts it; it returns the cleaned,
// slash-separated path inside dir ("" for the directory itself).
func (u *unpacker) entry(name string) (string, error) {
	u.files++
	if u.files > u.lim.MaxFiles {
		return "", invalid("more than %d files and directories", u.lim.MaxFiles)
	}
	clean, err := cleanName(name)
	if err != nil {
		return "", err
	}
	if clean != "" && u.seen[clean] {
		return "", invalid("entry %q appears twice", name)
	}
	u.seen[clean] = true
	return clean, nil
}

// cleanName checks an entry's name: relative, forward slashes, no "..",
// nothing that is not printable.
func cleanName(name string) (string, error) {
	switch {
	case name == "":
		return "", invalid("an entry has no name")
	case strings.ContainsRune(name, '\\'):
		return "", invalid("entry %q: backslashes are not allowed in names (use /)", name)
	case strings.HasPrefix(name, "/") || filepath.VolumeName(name) != "":
		return "", invalid("entry %q: absolute paths are not allowed", name)
	case strings.IndexFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }) >= 0:
		return "", invalid("entry %q: control characters are not allowed in names", name)
	}
	if slices.Contains(strings.Split(name, "/"), "..") {
		return "", invalid("entry %q: \"..\" is not allowed in paths (it would leave the version directory)", name)
	}
	clean := path.Clean(name)
	if clean == "." {
		return "", nil
	}
	return clean, nil
}

// mkdir creates the directory rel (slash-separated) under dir.
func (u *unpacker) mkdir(rel string) error {
	if rel == "" {
		return nil
	}
	p := filepath.Join(u.dir, filepath.FromSlash(rel))
	if fi, err := os.Lstat(p); err == nil && !fi.IsDir() {
		return invalid("entry %q is both a file and a directory", rel)
	}
	if err := os.MkdirAll(p, 0o755); err != nil {
		// In a new directory of its own, only the upload's names conflict.
		return invalid("directory %q: %v", rel, err)
	}
	return nil
}

// file writes r as the file rel (slash-separated) under dir: size is what
// the archive declares (-1: unknown); more than the limit allows is
// refused before it is written.
func (u *unpacker) file(rel string, r io.Reader, size int64) error {
	left := u.lim.MaxBytes - u.bytes
	if size > left {
		return invalid("unpacked, the files exceed %d bytes", u.lim.MaxBytes)
	}
	if d := path.Dir(rel); d != "." {
		if err := u.mkdir(d); err != nil {
			return err
		}
	}
	p := filepath.Join(u.dir, filepath.FromSlash(rel))
	f, err := os.OpenFile(p, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if errors.Is(err, fs.ErrExist) {
		return invalid("entry %q appears twice", rel)
	}
	if err != nil {
		return err
	}
	n, err := io.Copy(f, io.LimitReader(r, left+1))
	u.bytes += n
	err = errors.Join(err, f.Close())
	switch {
	case err != nil:
		return classify(err, rel)
	case n > left:
		return invalid("unpacked, the files exceed %d bytes", u.lim.MaxBytes)
	case size >= 0 && n != size:
		return invalid("entry %q: %d bytes, its header says %d", rel, n, size)
	}
	return nil
}

// sourceReader marks the errors of reading the upload itself, which are
// not the upload's fault (a network failure), apart from those of
// decoding it.
type sourceReader struct{ r io.Reader }

// SourceError is an error reading the upload (not its content's fault).
type SourceError struct{ Err error }

func (e *SourceError) Error() string { return "read upload: " + e.Err.Error() }
func (e *SourceError) Unwrap() error { return e.Err }

func (s *sourceReader) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	if err != nil && err != io.EOF {
		err = &SourceError{Err: err}
	}
	return n, err
}

// classify makes a decoding error an ErrInvalid naming what was being
// read; a SourceError or a local file system error stays as it is.
func classify(err error, what string) error {
	var se *SourceError
	var pe *fs.PathError
	switch {
	case errors.Is(err, ErrInvalid), errors.As(err, &se), errors.As(err, &pe):
		return err
	case errors.Is(err, io.ErrUnexpectedEOF):
		return invalid("%s: the upload ends early (truncated)", what)
	case errors.As(err, new(flate.CorruptInputError)), errors.Is(err, gzip.ErrChecksum), errors.Is(err, gzip.ErrHeader):
		return invalid("%s: the gzip data is corrupt (%v)", what, err)
	}
	return invalid("%s: %v", what, err)
}
