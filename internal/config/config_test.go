package config

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"batchinfer/internal/natsx"

	"github.com/rs/zerolog"
)

// settings is a set with one setting of each kind, registered after the
// test has set its environment (variables are read at registration).
type settings struct {
	set    *Set
	str    string
	secret string
	n      int
	n64    int64
	dur    time.Duration
	list   []string
}

func newSettings() *settings {
	c := &settings{set: New("test")}
	c.set.String(&c.str, "str", "CT_STR", "def", "a string")
	c.set.Secret(&c.secret, "secret", "CT_SECRET", "a secret")
	c.set.Int(&c.n, "n", "CT_N", 1, "an int")
	c.set.Int64(&c.n64, "n64", "CT_N64", 2, "an int64")
	c.set.Duration(&c.dur, "dur", "CT_DUR", 3*time.Second, "a duration")
	c.set.List(&c.list, "list", "CT_LIST", []string{"a", "b"}, "a list")
	return c
}

func TestPrecedence(t *testing.T) {
	type want struct {
		str  string
		n    int
		n64  int64
		dur  time.Duration
		list []string
	}
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want want
	}{
		{
			name: "defaults",
			want: want{"def", 1, 2, 3 * time.Second, []string{"a", "b"}},
		},
		{
			name: "env over default",
			env:  map[string]string{"CT_STR": "env", "CT_N": "10", "CT_N64": "20", "CT_DUR": "1m", "CT_LIST": "x,y"},
			want: want{"env", 10, 20, time.Minute, []string{"x", "y"}},
		},
		{
			name: "flag over env",
			env:  map[string]string{"CT_STR": "env", "CT_N": "10", "CT_N64": "20", "CT_DUR": "1m", "CT_LIST": "x,y"},
			args: []string{"-str", "flag", "-n=100", "--n64", "200", "-dur", "2h", "-list", "p"},
			want: want{"flag", 100, 200, 2 * time.Hour, []string{"p"}},
		},
		{
			name: "flag over default",
			args: []string{"-n", "-5", "-dur", "0s"},
			want: want{"def", -5, 2, 0, []string{"a", "b"}},
		},
		{
			name: "mixed",
			env:  map[string]string{"CT_N": "10", "CT_DUR": "90s"},
			args: []string{"-str", "flag"},
			want: want{"flag", 10, 2, 90 * time.Second, []string{"a", "b"}},
		},
		{
			name: "empty env is a value",
			env:  map[string]string{"CT_STR": "", "CT_LIST": ""},
			want: want{"", 1, 2, 3 * time.Second, nil},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c := newSettings()
			if err := c.set.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got := want{c.str, c.n, c.n64, c.dur, c.list}
			if got.str != tc.want.str || got.n != tc.want.n || got.n64 != tc.want.n64 || got.dur != tc.want.dur || !slices.Equal(got.list, tc.want.list) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestArgs(t *testing.T) {
	c := newSettings()
	if err := c.set.Parse([]string{"-n", "4", "rest", "-str", "x"}); err != nil {
		t.Fatal(err)
	}
	if c.n != 4 || c.str != "def" || !slices.Equal(c.set.Args(), []string{"rest", "-str", "x"}) {
		t.Fatalf("n %d str %q args %q", c.n, c.str, c.set.Args())
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	if err := os.WriteFile(path, []byte("  s3cr3t\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Run("file", func(t *testing.T) {
		t.Setenv("CT_SECRET_FILE", path)
		c := newSettings()
		if err := c.set.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if c.secret != "s3cr3t" {
			t.Fatalf("secret %q, want the trimmed file content", c.secret)
		}
	})
	t.Run("env over file", func(t *testing.T) {
		t.Setenv("CT_SECRET_FILE", path)
		t.Setenv("CT_SECRET", "fromenv")
		c := newSettings()
		if err := c.set.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if c.secret != "fromenv" {
			t.Fatalf("secret %q", c.secret)
		}
	})
	t.Run("flag over file", func(t *testing.T) {
		t.Setenv("CT_SECRET_FILE", path)
		c := newSettings()
		if err := c.set.Parse([]string{"-secret", "fromflag"}); err != nil {
			t.Fatal(err)
		}
		if c.secret != "fromflag" {
			t.Fatalf("secret %q", c.secret)
		}
	})
	t.Run("missing file", func(t *testing.T) {
		t.Setenv("CT_SECRET_FILE", filepath.Join(dir, "nope"))
		c := newSettings()
		err := c.set.Parse(nil)
		if err == nil || !strings.Contains(err.Error(), "$CT_SECRET_FILE") {
			t.Fatalf("err %v, want one naming $CT_SECRET_FILE", err)
		}
	})
	t.Run("_FILE only for secrets", func(t *testing.T) {
		t.Setenv("CT_STR_FILE", path)
		c := newSettings()
		if err := c.set.Parse(nil); err != nil {
			t.Fatal(err)
		}
		if c.str != "def" {
			t.Fatalf("str %q read from a file", c.str)
		}
	})
}

func logConfig(t *testing.T, s *Set) (map[string]string, string) {
	t.Helper()
	var buf bytes.Buffer
	log := zerolog.New(&buf)
	s.Log(log.Info()).Msg("starting")
	var line struct {
		Config map[string]string `json:"config"`
	}
	if err := json.Unmarshal(buf.Bytes(), &line); err != nil {
		t.Fatalf("log line %q: %v", buf.String(), err)
	}
	return line.Config, buf.String()
}

func TestLogMasksSecrets(t *testing.T) {
	t.Setenv("CT_SECRET", "hunter2")
	t.Setenv("CT_N", "42")
	c := newSettings()
	var token string
	c.set.Secret(&token, "token", "CT_TOKEN", "an unset secret")
	if err := c.set.Parse([]string{"-list", "x, y"}); err != nil {
		t.Fatal(err)
	}
	cfg, raw := logConfig(t, c.set)
	if strings.Contains(raw, "hunter2") {
		t.Fatalf("secret in the log: %s", raw)
	}
	want := map[string]string{
		"str": "def", "secret": "*****", "n": "42", "n64": "2", "dur": "3s", "list": "x,y", "token": "",
	}
	for k, v := range want {
		if got, ok := cfg[k]; !ok || got != v {
			t.Errorf("config[%q] = %q (present %v), want %q", k, got, ok, v)
		}
	}
	if len(cfg) != len(want) {
		t.Errorf("logged %d settings, want %d: %v", len(cfg), len(want), cfg)
	}
}

func TestBadValues(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want []string // substrings of the error
	}{
		{"bad int env", map[string]string{"CT_N": "ten"}, nil, []string{"$CT_N", `"ten" is not an integer`}},
		{"int env with spaces", map[string]string{"CT_N": " 10"}, nil, []string{"$CT_N", "not an integer"}},
		{"bad int64 env", map[string]string{"CT_N64": "1e3"}, nil, []string{"$CT_N64", `"1e3" is not an integer`}},
		{"int64 overflow env", map[string]string{"CT_N64": "9223372036854775808"}, nil, []string{"$CT_N64", "not an integer"}},
		{"bad duration env", map[string]string{"CT_DUR": "10"}, nil, []string{"$CT_DUR", `"10" is not a duration`}},
		{"bad duration unit", map[string]string{"CT_DUR": "5 minutes"}, nil, []string{"$CT_DUR", "not a duration"}},
		{"first bad env is reported", map[string]string{"CT_N": "x", "CT_DUR": "y"}, nil, []string{"$CT_N"}},
		{"bad int flag", nil, []string{"-n", "x"}, []string{"-n", `"x" is not an integer`}},
		{"bad duration flag", nil, []string{"-dur=3"}, []string{"-dur", "not a duration"}},
		{"unknown flag", nil, []string{"-nope"}, []string{"nope"}},
		{"missing flag value", nil, []string{"-n"}, []string{"-n"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			c := newSettings()
			err := c.set.Parse(tc.args)
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestHelp(t *testing.T) {
	c := newSettings()
	stdout := os.Stdout
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	os.Stdout = w
	err = c.set.Parse([]string{"-h"})
	os.Stdout = stdout
	w.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(r)
	if err != flag.ErrHelp {
		t.Fatalf("err %v, want flag.ErrHelp", err)
	}
	for _, s := range []string{"-dur", "($CT_DUR)", "(or a file in $CT_SECRET_FILE)"} {
		if !strings.Contains(out.String(), s) {
			t.Errorf("help does not contain %q:\n%s", s, out.String())
		}
	}
}

func TestList(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a", []string{"a"}},
		{"a,b,c", []string{"a", "b", "c"}},
		{" a , b ,c ", []string{"a", "b", "c"}},
		{"a,,b,", []string{"a", "b"}},
		{"", nil},
		{" , ,", nil},
		{"http://x:1,https://y", []string{"http://x:1", "https://y"}},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			for _, viaEnv := range []bool{false, true} {
				var args []string
				if viaEnv {
					t.Setenv("CT_LIST", tc.in)
				} else {
					args = []string{"-list", tc.in}
				}
				c := newSettings()
				if err := c.set.Parse(args); err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(c.list, tc.want) {
					t.Fatalf("env %v: got %q, want %q", viaEnv, c.list, tc.want)
				}
				if got := (*listValue)(&c.list).String(); got != strings.Join(tc.want, ",") {
					t.Fatalf("String() %q", got)
				}
			}
		})
	}
}

func TestMarkdown(t *testing.T) {
	s := New("svc")
	var (
		conn    natsx.ConnConfig
		streams natsx.StreamConfig
		c       settings
	)
	s.NATS(&conn, "nats://localhost:4222")
	s.Streams(&streams)
	s.String(&c.str, "str", "CT_STR", "def", "a string")
	s.Secret(&c.secret, "secret", "CT_SECRET", "a secret")
	s.Duration(&c.dur, "dur", "CT_DUR", 3*time.Second, "a duration")
	s.List(&c.list, "list", "CT_LIST", []string{"a", "b"}, "a list")
	md := s.Markdown()
	lines := strings.Split(strings.TrimSuffix(md, "\n"), "\n")
	if lines[0] != "| flag | environment | default | meaning |" || lines[1] != "|---|---|---|---|" {
		t.Fatalf("header %q", lines[:2])
	}
	var flags []string
	s.fs.VisitAll(func(f *flag.Flag) { flags = append(flags, f.Name) })
	if len(flags) != len(lines)-2 {
		t.Fatalf("%d flags, %d rows:\n%s", len(flags), len(lines)-2, md)
	}
	for _, name := range flags {
		if !strings.Contains(md, "| `-"+name+"` |") {
			t.Errorf("flag -%s missing from:\n%s", name, md)
		}
	}
	for _, row := range []string{
		"| `-nats-url` | `NATS_URL` | `nats://localhost:4222` | NATS server URL(s), comma-separated |",
		"| `-nats-password` | `NATS_PASSWORD` | `—` | NATS password |",
		"| `-result-ttl` | `RESULT_TTL` | `24h0m0s` |",
		"| `-dur` | `CT_DUR` | `3s` | a duration |",
		"| `-list` | `CT_LIST` | `a,b` | a list |",
	} {
		if !strings.Contains(md, row) {
			t.Errorf("row %q missing from:\n%s", row, md)
		}
	}
}

func TestMarkdownShowsDefaultNotEnv(t *testing.T) {
	t.Setenv("CT_N", "99")
	c := newSettings()
	if err := c.set.Parse([]string{"-str", "flag"}); err != nil {
		t.Fatal(err)
	}
	md := c.set.Markdown()
	if !strings.Contains(md, "| `-n` | `CT_N` | `1` |") || !strings.Contains(md, "| `-str` | `CT_STR` | `def` |") {
		t.Fatalf("markdown shows current values, not defaults:\n%s", md)
	}
}

func TestBool(t *testing.T) {
	for _, tc := range []struct {
		args []string
		env  string
		want bool
		bad  bool
	}{
		{nil, "", false, false},
		{[]string{"-on"}, "", true, false},
		{[]string{"-on=false"}, "", false, false},
		{nil, "true", true, false},
		{nil, "1", true, false},
		{[]string{"-on=false"}, "true", false, false},
		{nil, "yes please", false, true},
	} {
		if tc.env != "" {
			t.Setenv("CT_ON", tc.env)
		}
		var on bool
		s := New("t")
		s.Bool(&on, "on", "CT_ON", false, "switch")
		err := s.Parse(tc.args)
		if (err != nil) != tc.bad || on != tc.want {
			t.Errorf("args %v env %q: %v, err %v; want %v", tc.args, tc.env, on, err, tc.want)
		}
		t.Setenv("CT_ON", "")
	}
}
