package upload

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strings"
	"testing"
)

func TestParseChecksum(t *testing.T) {
	sum := sha256.Sum256([]byte("abc"))
	good := "sha256 " + base64.StdEncoding.EncodeToString(sum[:])
	for _, tc := range []struct {
		header, err string
	}{
		{"", ""},
		{good, ""},
		{"sha1 qZk+NkcGgWq6PiVxeFDCbJzQ2J0=", ""},
		{"crc32 AAAAAA==", "want an algorithm of sha1,sha256,sha512,md5"},
		{"sha1", "want an algorithm"},
		{"sha1 !!!", "not the base64"},
		{"sha256 " + base64.StdEncoding.EncodeToString(sum[:10]), "sha256 digest (32 bytes)"},
	} {
		c, err := parseChecksum(tc.header)
		if tc.err == "" && err != nil || tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%q: %v, want %q", tc.header, err, tc.err)
		}
		if tc.header == good {
			c.h.Write([]byte("abc"))
			if err := c.check(); err != nil {
				t.Errorf("matching body: %v", err)
			}
			c.h.Write([]byte("d"))
			if err := c.check(); !errors.Is(err, errChecksumMismatch) {
				t.Errorf("other body: %v", err)
			}
		}
	}
}

func TestParseMetadata(t *testing.T) {
	b64 := func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }
	for _, tc := range []struct {
		header string
		want   map[string]string
		err    string
	}{
		{"", map[string]string{}, ""},
		{"filename " + b64("a b.csv") + ", filetype " + b64("text/csv") + ",empty", map[string]string{"filename": "a b.csv", "filetype": "text/csv", "empty": ""}, ""},
		{"filename not-base64!", nil, "not base64"},
		{"a " + b64("1") + ",a " + b64("2"), nil, `key "a" twice`},
		{"a b c", nil, "not a key and a base64 value"},
		{",", nil, "not a key"},
		{"bin " + base64.StdEncoding.EncodeToString([]byte{0xff, 0xfe}), nil, "UTF-8"},
		{"k " + strings.Repeat("QUFB", 100), nil, "more than 64"},
	} {
		got, err := parseMetadata(tc.header, 64)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%q: %v, want %q", tc.header, err, tc.err)
			}
			continue
		}
		if err != nil || len(got) != len(tc.want) {
			t.Fatalf("%q: %v %v", tc.header, got, err)
		}
		for k, v := range tc.want {
			if got[k] != v {
				t.Errorf("%q: %s=%q, want %q", tc.header, k, got[k], v)
			}
		}
	}
}
