package simulator_test

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"github.com/feedkey/feedkey/simulator"
)

func TestCA(t *testing.T) {
	ca, err := simulator.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if !ca.Certificate().IsCA {
		t.Error("CA certificate is not a CA")
	}

	path := filepath.Join(t.TempDir(), "ca.pem")
	if err := ca.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != string(ca.PEM()) {
		t.Error("WriteFile wrote something other than PEM()")
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != "CERTIFICATE" || len(rest) != 0 {
		t.Fatalf("PEM() is not a single certificate: %q", data)
	}
	if _, err := x509.ParseCertificate(block.Bytes); err != nil {
		t.Fatal(err)
	}

	cfg, err := ca.ServerTLSConfig("feeds.example.test", "192.0.2.7")
	if err != nil {
		t.Fatal(err)
	}
	leaf := cfg.Certificates[0].Leaf
	tests := []struct {
		host string
		ok   bool
	}{
		{"127.0.0.1", true},
		{"::1", true},
		{"localhost", true},
		{"feeds.example.test", true},
		{"192.0.2.7", true},
		{"other.example.test", false},
		{"10.0.0.1", false},
	}
	for _, tt := range tests {
		_, err := leaf.Verify(x509.VerifyOptions{
			DNSName:   tt.host,
			Roots:     ca.CertPool(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		})
		if (err == nil) != tt.ok {
			t.Errorf("Verify(%q) error = %v, want ok = %v", tt.host, err, tt.ok)
		}
	}

	other, err := simulator.NewCA()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := leaf.Verify(x509.VerifyOptions{DNSName: "localhost", Roots: other.CertPool()}); err == nil {
		t.Error("leaf verifies against an unrelated CA")
	}
	if cfg.MinVersion < tls.VersionTLS12 {
		t.Errorf("MinVersion = %x", cfg.MinVersion)
	}
}
