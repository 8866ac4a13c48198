package archive

import (
	"archive/tar"
	"archive/zip"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// tarGz unpacks a gzip-compressed tar.
func (u *unpacker) tarGz(r io.Reader) error {
	zr, err := gzip.NewReader(r)
	if err != nil {
		return classify(err, "gzip")
	}
	defer zr.Close()
	return u.tar(zr)
}

// tar unpacks a tar archive: directories and regular files only.
func (u *unpacker) tar(r io.Reader) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return classify(err, "tar archive")
		}
		rel, err := u.entry(h.Name)
		if err != nil {
			return err
		}
		switch h.Typeflag {
		case tar.TypeDir:
			err = u.mkdir(rel)
		case tar.TypeReg, tar.TypeGNUSparse:
			if rel == "" {
				return invalid("entry %q: a file without a name", h.Name)
			}
			err = u.file(rel, tr, h.Size)
		default:
			return invalid("entry %q is %s: an archive may hold only files and directories", h.Name, tarKind(h.Typeflag))
		}
		if err != nil {
			return err
		}
	}
}

func tarKind(t byte) string {
	switch t {
	case tar.TypeSymlink:
		return "a symbolic link"
	case tar.TypeLink:
		return "a hard link"
	case tar.TypeChar, tar.TypeBlock:
		return "a device"
	case tar.TypeFifo:
		return "a named pipe"
	}
	return fmt.Sprintf("of tar type %q", t)
}

// zip unpacks a zip archive. Its directory is at its end, so it is kept
// in a file beside dir first (within the byte limit).
func (u *unpacker) zip(r io.Reader) (err error) {
	f, err := os.CreateTemp(filepath.Dir(u.dir), ".upload-*.zip")
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, f.Close(), os.Remove(f.Name())) }()
	n, err := io.Copy(f, io.LimitReader(r, u.lim.MaxBytes+1))
	if err != nil {
		return classify(err, "zip archive")
	}
	if n > u.lim.MaxBytes {
		return invalid("the zip archive exceeds %d bytes", u.lim.MaxBytes)
	}
	zr, err := zip.NewReader(f, n)
	if err != nil {
		return classify(err, "zip archive")
	}
	for _, zf := range zr.File {
		if err := u.zipEntry(zf); err != nil {
			return err
		}
	}
	return nil
}

func (u *unpacker) zipEntry(zf *zip.File) error {
	rel, err := u.entry(zf.Name)
	if err != nil {
		return err
	}
	mode := zf.Mode()
	switch {
	case mode&os.ModeSymlink != 0:
		return invalid("entry %q is a symbolic link: an archive may hold only files and directories", zf.Name)
	case mode.IsDir() || strings.HasSuffix(zf.Name, "/"):
		return u.mkdir(rel)
	case !mode.IsRegular():
		return invalid("entry %q is not a regular file: an archive may hold only files and directories", zf.Name)
	case rel == "":
		return invalid("entry %q: a file without a name", zf.Name)
	}
	rc, err := zf.Open()
	if err != nil {
		return classify(err, "zip entry "+zf.Name)
	}
	defer rc.Close()
	size := int64(-1)
	if zf.UncompressedSize64 <= uint64(u.lim.MaxBytes) {
		size = int64(zf.UncompressedSize64)
	} else {
		return invalid("unpacked, the files exceed %d bytes", u.lim.MaxBytes)
	}
	return u.file(rel, rc, size)
}
