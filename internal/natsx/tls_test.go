package natsx

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// testPKI is a CA and certificates it signed, written as PEM files.
type testPKI struct {
	dir    string
	ca     *x509.Certificate
	caKey  *ecdsa.PrivateKey
	caFile string
}

func newPKI(t *testing.T) *testPKI {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"}, IsCA: true, BasicConstraintsValid: true,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), KeyUsage: x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	p := &testPKI{dir: t.TempDir(), ca: ca, caKey: key}
	p.caFile = p.write(t, "ca.pem", "CERTIFICATE", der)
	return p
}

func (p *testPKI) write(t *testing.T, name, typ string, der []byte) string {
	t.Helper()
	f := filepath.Join(p.dir, name)
	if err := os.WriteFile(f, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// issue makes a certificate for name (server: for 127.0.0.1 too).
func (p *testPKI) issue(t *testing.T, name string, usage x509.ExtKeyUsage) (certFile, keyFile string) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()), Subject: pkix.Name{CommonName: name},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{usage},
		DNSNames: []string{name}, IPAddresses: []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, p.ca, &key.PublicKey, p.caKey)
	if err != nil {
		t.Fatal(err)
	}
	kb, _ := x509.MarshalECPrivateKey(key)
	return p.write(t, name+".pem", "CERTIFICATE", der), p.write(t, name+"-key.pem", "EC PRIVATE KEY", kb)
}

// A server that requires TLS and client certificates takes a client with
// the CA, certificate and key settings, and refuses one without them.
func TestConnectWithTLS(t *testing.T) {
	pki := newPKI(t)
	srvCert, srvKey := pki.issue(t, "nats", x509.ExtKeyUsageServerAuth)
	cliCert, cliKey := pki.issue(t, "gateway", x509.ExtKeyUsageClientAuth)
	tc, err := server.GenTLSConfig(&server.TLSConfigOpts{CertFile: srvCert, KeyFile: srvKey, CaFile: pki.caFile, Verify: true})
	if err != nil {
		t.Fatal(err)
	}
	ns, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, NoSigs: true, NoLog: true, TLSConfig: tc, TLSVerify: true, TLSTimeout: 2})
	if err != nil {
		t.Fatal(err)
	}
	go ns.Start()
	t.Cleanup(ns.Shutdown)
	if !ns.ReadyForConnections(5 * time.Second) {
		t.Fatal("server not ready")
	}
	url := strings.Replace(ns.ClientURL(), "nats://", "tls://", 1)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	nc, err := Connect(ctx, ConnConfig{URL: url, TLSCA: pki.caFile, TLSCert: cliCert, TLSKey: cliKey}, zerolog.Nop())
	if err != nil {
		t.Fatalf("with CA, certificate and key: %v", err)
	}
	if s, err := nc.TLSConnectionState(); err != nil || !s.HandshakeComplete {
		t.Fatal("not a TLS connection")
	}
	nc.Close()
	for name, c := range map[string]ConnConfig{
		"no client certificate": {URL: url, TLSCA: pki.caFile},
		"no CA":                 {URL: url, TLSCert: cliCert, TLSKey: cliKey},
	} {
		short, cancel := context.WithTimeout(context.Background(), 700*time.Millisecond)
		if nc, err := Connect(short, c, zerolog.Nop()); err == nil {
			nc.Close()
			t.Errorf("%s: connected", name)
		}
		cancel()
	}
	for name, c := range map[string]ConnConfig{
		"certificate without key": {URL: url, TLSCert: cliCert},
		"missing CA file":         {URL: url, TLSCA: filepath.Join(pki.dir, "nope.pem")},
	} {
		if _, err := Connect(context.Background(), c, zerolog.Nop()); err == nil || !strings.Contains(err.Error(), "nats tls") {
			t.Errorf("%s: %v, want a settings error at once", name, err)
		}
	}
}
