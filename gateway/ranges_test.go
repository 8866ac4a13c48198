package gateway

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"batchinfer/api"
)

func TestParseRange(t *testing.T) {
	const size = 100
	for _, tc := range []struct {
		h       string
		want    byteRange
		partial bool
		bad     bool
	}{
		{h: ""},
		{h: "bytes=0-9", want: byteRange{0, 10}, partial: true},
		{h: "bytes=90-", want: byteRange{90, 100}, partial: true},
		{h: "bytes=90-1000", want: byteRange{90, 100}, partial: true},
		{h: "bytes=99-99", want: byteRange{99, 100}, partial: true},
		{h: "bytes=-10", want: byteRange{90, 100}, partial: true},
		{h: "bytes=-1000", want: byteRange{0, 100}, partial: true},
		{h: "Bytes = 5-6", want: byteRange{5, 7}, partial: true},
		{h: "items=0-5"},             // another unit: ignored
		{h: "bytes=0-1,5-6"},         // several ranges: the whole file
		{h: "bytes=100-", bad: true}, // past the end
		{h: "bytes=100-200", bad: true},
		{h: "bytes=-0", bad: true},
		{h: "bytes=5-4", bad: true},
		{h: "bytes=a-", bad: true},
		{h: "bytes=-x", bad: true},
		{h: "bytes=--5", bad: true},
		{h: "bytes=-5-", bad: true},
		{h: "bytes=5", bad: true},
		{h: "bytes=", bad: true},
		{h: "bytes=1-2-3", bad: true},
	} {
		got, partial, err := parseRange(tc.h, size)
		if tc.bad {
			if e := api.As(err); err == nil || e.Code != api.CodeRangeNotSatisfiable {
				t.Errorf("%q: %v, want range_not_satisfiable", tc.h, err)
			}
			continue
		}
		if err != nil || partial != tc.partial || got != tc.want {
			t.Errorf("%q: %+v %v %v, want %+v %v", tc.h, got, partial, err, tc.want, tc.partial)
		}
	}
	if _, _, err := parseRange("bytes=0-", 0); err == nil {
		t.Error("a range of an empty file is satisfiable")
	}
	if _, partial, err := parseRange("", 0); err != nil || partial {
		t.Error("no range of an empty file")
	}
}

func TestConditionalHeaders(t *testing.T) {
	mod := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	etag := `"abc"`
	for _, tc := range []struct {
		h    string
		want bool
	}{
		{"", true}, {etag, true}, {`"old"`, false}, {`W/"abc"`, false},
		{mod.Format(http.TimeFormat), true}, {mod.Add(time.Second).Format(http.TimeFormat), false}, {"yesterday", false},
	} {
		if got := ifRange(tc.h, etag, mod); got != tc.want {
			t.Errorf("If-Range %q: %v", tc.h, got)
		}
	}
	for _, tc := range []struct {
		name, value string
		want        bool
	}{
		{"If-None-Match", etag, true}, {"If-None-Match", `"x", W/"abc"`, true}, {"If-None-Match", "*", true},
		{"If-None-Match", `"x"`, false}, {"If-Modified-Since", mod.Format(http.TimeFormat), true},
		{"If-Modified-Since", mod.Add(-time.Second).Format(http.TimeFormat), false}, {"If-Modified-Since", "garbage", false},
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set(tc.name, tc.value)
		if got := notModified(r, etag, mod); got != tc.want {
			t.Errorf("%s: %s: %v", tc.name, tc.value, got)
		}
	}
}
