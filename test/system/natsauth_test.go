package system

import (
	"context"
	"strings"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/natsx"
)

// With NATS credentials configured, the services use them; wrong ones fail
// at start with a clear error instead of retrying forever.
func TestNATSCredentials(t *testing.T) {
	s := Start(t, Options{NATSUser: "bi", NATSPassword: "s3cret"})
	inputs, _ := DigitInputs(t, 10)
	if st := s.waitJob(t, s.submit(t, map[string]any{"model": "digits", "inputs": inputs}).ID, 30*time.Second); st.Done != 10 {
		t.Fatalf("status %+v", st)
	}
	g, err := gateway.New(gateway.Config{Addr: "127.0.0.1:0", NATS: natsx.ConnConfig{URL: s.NATSURL, User: "bi", Password: "wrong"},
		Auth: gateway.AuthConfig{KeysFile: s.KeysFile}}, Logger())
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err = g.Start(ctx)
	if err == nil || !strings.Contains(strings.ToLower(err.Error()), "authorization") {
		t.Fatalf("start with a wrong password: %v", err)
	}
}
