package main

import (
	"slices"
	"testing"
)

func TestBareDryRunIsTrue(t *testing.T) {
	got := boolFlags([]string{"-dry-run", "-min", "0", "--dry-run", "-dry-run=false"})
	want := []string{"-dry-run=true", "-min", "0", "-dry-run=true", "-dry-run=false"}
	if !slices.Equal(got, want) {
		t.Fatalf("%v, want %v", got, want)
	}
}

func TestHealthcheckFailsWithNothingListening(t *testing.T) {
	if err := run([]string{"healthcheck", "-metrics-addr", "127.0.0.1:1"}); err == nil {
		t.Fatal("healthcheck passed with no autoscaler")
	}
}
