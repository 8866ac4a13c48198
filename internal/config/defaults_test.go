package config

import (
	"testing"
	"time"
)

func TestFillDefaults(t *testing.T) {
	type inner struct {
		N int
		S []string
	}
	type cfg struct {
		A     int
		D     time.Duration
		Name  string
		In    inner
		At    time.Time
		limit int // unexported: left alone
	}
	def := cfg{A: 1, D: time.Second, Name: "x", In: inner{N: 2, S: []string{"a"}}, At: time.Unix(5, 0), limit: 9}
	got := cfg{A: 7, In: inner{S: []string{"b"}}}
	FillDefaults(&got, def)
	if got.A != 7 || got.D != time.Second || got.Name != "x" || got.In.N != 2 || got.In.S[0] != "b" || !got.At.Equal(def.At) || got.limit != 0 {
		t.Fatalf("%+v", got)
	}
}
