package system

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"batchinfer/gateway"
	"batchinfer/internal/freeport"
)

// writeCert writes a self-signed certificate for 127.0.0.1 with serial n.
func writeCert(t *testing.T, dir string, n int64) (certFile, keyFile string, cert *x509.Certificate) {
	t.Helper()
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(n), Subject: pkix.Name{CommonName: "gateway"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ = x509.ParseCertificate(der)
	kb, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	// Written beside and renamed, as a certificate manager does.
	for _, f := range []struct {
		path string
		typ  string
		der  []byte
	}{{certFile, "CERTIFICATE", der}, {keyFile, "EC PRIVATE KEY", kb}} {
		tmp := f.path + ".new"
		if err := os.WriteFile(tmp, pem.EncodeToMemory(&pem.Block{Type: f.typ, Bytes: f.der}), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			t.Fatal(err)
		}
	}
	return certFile, keyFile, cert
}

// With a certificate the API is HTTPS (with HSTS), and a renewed
// certificate is used without a restart; the operators' listener answers
// without credentials.
func TestTLSWithReloadAndOpsListener(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, first := writeCert(t, dir, 1)
	s := Start(t, Options{})
	opsAddr := freeAddr(t)
	g := s.NewGatewayWith(func(c *gateway.Config) { c.TLSCert, c.TLSKey, c.OpsAddr = certFile, keyFile, opsAddr })
	base := "https://" + g.Addr()
	served := func() (*x509.Certificate, error) {
		c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
		resp, err := c.Get(base + "/health")
		if err != nil {
			return nil, err
		}
		defer resp.Body.Close()
		if hsts := resp.Header.Get("Strict-Transport-Security"); hsts != "max-age=31536000" {
			return nil, fmt.Errorf("HSTS %q over TLS", hsts)
		}
		return resp.TLS.PeerCertificates[0], nil
	}
	if got, err := served(); err != nil || got.SerialNumber.Cmp(first.SerialNumber) != 0 {
		t.Fatalf("first certificate: %v %v", got, err)
	}
	_, _, second := writeCert(t, dir, 2)
	Eventually(t, 10*time.Second, func() error {
		got, err := served()
		if err != nil {
			return err
		}
		if got.SerialNumber.Cmp(second.SerialNumber) != 0 {
			return fmt.Errorf("still serving certificate %v", got.SerialNumber)
		}
		return nil
	})
	if resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + g.Addr() + "/health"); err == nil && resp.StatusCode == 200 {
		t.Fatal("plain HTTP served on the TLS listener")
	}
	for _, p := range []string{"/metrics", "/v1/cluster", "/health", "/ready"} {
		resp, err := http.Get("http://" + opsAddr + p)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("ops %s: %v %v", p, err, resp)
		}
		resp.Body.Close()
	}
	if resp, err := http.Get("http://" + opsAddr + "/v1/jobs"); err != nil || resp.StatusCode != 404 {
		t.Fatalf("ops listener serves jobs: %v %v", err, resp)
	}
}

// freeAddr is a loopback address for a listener the gateway opens itself.
func freeAddr(t *testing.T) string {
	t.Helper()
	return fmt.Sprintf("127.0.0.1:%d", freeport.Port(t))
}
