package simtest_test

import (
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
