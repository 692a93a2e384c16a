package simtest_test

import (
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/simulator/simtest"
)

func TestPipEnv(t *testing.T) {
	env := simtest.PipEnv("/tmp/ca.pem")
	want := map[string]string{
		"PIP_CONFIG_FILE":               os.DevNull,
		"PIP_FIND_LINKS":                "",
		"PIP_CERT":                      "/tmp/ca.pem",
		"REQUESTS_CA_BUNDLE":            "/tmp/ca.pem",
		"SSL_CERT_FILE":                 "/tmp/ca.pem",
		"PIP_DISABLE_PIP_VERSION_CHECK": "1",
	}
	got := make(map[string]string)
	for _, kv := range env {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			t.Errorf("malformed entry %q", kv)
		}
		got[k] = v
	}
	for k, v := range want {
		if g, ok := got[k]; !ok || g != v {
			t.Errorf("%s = %q (set %v), want %q", k, g, ok, v)
		}
	}
}

func TestWithUser(t *testing.T) {
	for in, want := range map[string]string{
		"https://127.0.0.1:4443/simple/":        "https://__token__@127.0.0.1:4443/simple/",
		"https://h/o/_packaging/f/pypi/simple/": "https://__token__@h/o/_packaging/f/pypi/simple/",
		"http://h/simple/":                      "http://h/simple/", // never a user on plain http
	} {
		if got := simtest.WithUser(in, "__token__"); got != want {
			t.Errorf("WithUser(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStaticIndex checks that the index answers only with the token, over
// TLS from the CA it wrote.
func TestStaticIndex(t *testing.T) {
	indexURL, caFile := simtest.StaticIndex(t, "tok", nil)
	pem, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		t.Fatalf("%s holds no certificate", caFile)
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	for _, tc := range []struct {
		password string
		want     int
	}{{"", http.StatusUnauthorized}, {"wrong", http.StatusUnauthorized}, {"tok", http.StatusOK}} {
		req, _ := http.NewRequest("GET", indexURL, nil)
		if tc.password != "" {
			req.SetBasicAuth("__token__", tc.password)
		}
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("password %q: status %d, want %d", tc.password, resp.StatusCode, tc.want)
		}
	}
}
