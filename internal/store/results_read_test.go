package store

import (
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
)

func reply(status, seq, pending string) *nats.Msg {
	m := &nats.Msg{Header: nats.Header{}, Data: []byte(seq)}
	for k, v := range map[string]string{"Status": status, "Nats-Sequence": seq, "Nats-Num-Pending": pending} {
		if v != "" {
			m.Header.Set(k, v)
		}
	}
	return m
}

// A batched direct get's replies: results in order, then the end of the
// batch with what is still stored; anything out of order or unexpected
// ends the read with an error and no results.
func TestBatchReply(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replies []*nats.Msg
		want    []uint64
		pending uint64
		err     string
	}{
		{"a batch", []*nats.Msg{reply("", "5", ""), reply("", "9", ""), reply("204", "", "7")}, []uint64{5, 9}, 7, ""},
		{"nothing after", []*nats.Msg{reply("404", "", "")}, nil, 0, ""},
		{"out of order", []*nats.Msg{reply("", "9", ""), reply("", "5", "")}, nil, 0, ErrBatchGap.Error()},
		{"not after the cursor", []*nats.Msg{reply("", "3", "")}, nil, 0, "bad sequence"},
		{"an error status", []*nats.Msg{reply("", "5", ""), reply("408", "", "")}, nil, 0, "408"},
	} {
		var out []StoredResult
		var pending uint64
		var err error
		for _, m := range tc.replies {
			var last bool
			if last, pending, err = batchReply(m, "j", 4, &out); last {
				break
			}
		}
		var got []uint64
		for _, r := range out {
			got = append(got, r.Seq)
		}
		if (err == nil) != (tc.err == "") || (err != nil && !strings.Contains(err.Error(), tc.err)) || pending != tc.pending || len(got) != len(tc.want) {
			t.Errorf("%s: %v pending %d err %v; want %v pending %d err %q", tc.name, got, pending, err, tc.want, tc.pending, tc.err)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
			}
		}
		if errors.Is(err, ErrBatchGap) && out != nil {
			t.Errorf("%s: results kept after a gap", tc.name)
		}
	}
}
