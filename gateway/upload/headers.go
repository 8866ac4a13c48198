package upload

import (
	"bytes"
	"crypto/md5"  //nolint:gosec // a tus checksum algorithm clients may choose, not a security property
	"crypto/sha1" //nolint:gosec // tus requires sha1
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"hash"
	"strings"
	"unicode/utf8"
)

// ChecksumAlgorithms are the Upload-Checksum algorithms served
// (Tus-Checksum-Algorithm).
const ChecksumAlgorithms = "sha1,sha256,sha512,md5"

var hashes = map[string]func() hash.Hash{"sha1": sha1.New, "sha256": sha256.New, "sha512": sha512.New, "md5": md5.New}

var errChecksumMismatch = errors.New("checksum mismatch")

// checksum is an Upload-Checksum being verified: h sees the body.
type checksum struct {
	h    hash.Hash
	want []byte
}

func (c *checksum) check() error {
	if !bytes.Equal(c.h.Sum(nil), c.want) {
		return errChecksumMismatch
	}
	return nil
}

// parseChecksum reads "ALGORITHM BASE64" (nil for an empty header).
func parseChecksum(v string) (*checksum, error) {
	if v == "" {
		return nil, nil
	}
	alg, sum, ok := strings.Cut(strings.TrimSpace(v), " ")
	newHash, known := hashes[alg]
	if !ok || !known {
		return nil, fmt.Errorf("Upload-Checksum %q: want an algorithm of %s, a space and the base64 digest", v, ChecksumAlgorithms)
	}
	want, err := base64.StdEncoding.DecodeString(sum)
	h := newHash()
	if err != nil || len(want) != h.Size() {
		return nil, fmt.Errorf("Upload-Checksum: %q is not the base64 of a %s digest (%d bytes)", sum, alg, h.Size())
	}
	return &checksum{h: h, want: want}, nil
}

// parseMetadata reads Upload-Metadata: comma-separated pairs of a key and
// the base64 of its value (or a key alone), strictly, where tusd skips
// what it cannot read.
func parseMetadata(v string, maxBytes int) (map[string]string, error) {
	if len(v) > maxBytes {
		return nil, fmt.Errorf("Upload-Metadata has %d bytes, more than %d", len(v), maxBytes)
	}
	meta := map[string]string{}
	if strings.TrimSpace(v) == "" {
		return meta, nil
	}
	for _, pair := range strings.Split(v, ",") {
		key, val, _ := strings.Cut(strings.TrimSpace(pair), " ")
		if key == "" || strings.ContainsAny(val, " ") || !utf8.ValidString(key) {
			return nil, fmt.Errorf("Upload-Metadata: %q is not a key and a base64 value", pair)
		}
		dec, err := base64.StdEncoding.DecodeString(val)
		if err != nil || !utf8.Valid(dec) {
			return nil, fmt.Errorf("Upload-Metadata: the value of %q is not base64 of UTF-8 text", key)
		}
		if _, dup := meta[key]; dup {
			return nil, fmt.Errorf("Upload-Metadata: key %q twice", key)
		}
		meta[key] = string(dec)
	}
	return meta, nil
}
