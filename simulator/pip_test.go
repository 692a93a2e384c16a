package simulator_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

// TestPip installs wheels from the index with a real pip.
func TestPip(t *testing.T) {
	python, pip := simtest.Venv(t)

	ix := &simulator.Index{}
	srv := startIndex(t, ix)
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := srv.CA.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(), simtest.PipEnv(caFile)...)
	install := func(t *testing.T, userinfo, project string) ([]byte, error) {
		start := time.Now()
		cmd := exec.Command(pip, "install", "--no-cache-dir",
			"--index-url", "https://"+userinfo+"@"+srv.Addr()+"/simple/", project)
		cmd.Env = env
		out, err := cmd.CombinedOutput()
		t.Logf("pip install took %v", time.Since(start))
		return out, err
	}

	t.Run("unauthorized", func(t *testing.T) {
		ix.Recorder.Reset()
		out, err := install(t, "u:wrong", "demo-pkg")
		if err == nil {
			t.Fatalf("pip install succeeded with a wrong token:\n%s", out)
		}
		if !strings.Contains(string(out), "No matching distribution found for demo-pkg") {
			t.Errorf("unexpected pip output:\n%s", out)
		}
		// The request reached the index, so TLS worked and the index
		// refused the token.
		reqs := ix.Recorder.Requests()
		if len(reqs) == 0 || reqs[0].Path != "/simple/demo-pkg/" {
			t.Errorf("index saw %+v", reqs)
		}
	})

	t.Run("install", func(t *testing.T) {
		ix.Recorder.Reset()
		if out, err := install(t, "u:tok", "Demo.Pkg"); err != nil {
			t.Fatalf("pip install: %v\n%s", err, out)
		}
		cmd := exec.Command(python, "-c", "import demo_pkg; print(demo_pkg.VALUE)")
		cmd.Env = env
		got, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("import demo_pkg: %v\n%s", err, got)
		}
		if strings.TrimSpace(string(got)) != "42" {
			t.Errorf("demo_pkg.VALUE = %q, want 42 (from version 1.0)", got)
		}

		var sawPage, sawFile bool
		for _, r := range ix.Recorder.Requests() {
			if got := r.Header.Get("Authorization"); got != "Basic dTp0b2s=" { // u:tok
				t.Errorf("%s %s: Authorization %q", r.Method, r.Path, got)
			}
			if r.Host != srv.Addr() {
				t.Errorf("%s %s: Host %q, want %q", r.Method, r.Path, r.Host, srv.Addr())
			}
			sawPage = sawPage || r.Path == "/simple/demo-pkg/"
			sawFile = sawFile || r.Path == "/files/demo_pkg-1.0-py3-none-any.whl"
		}
		if !sawPage || !sawFile {
			t.Errorf("pip did not fetch both the project page and the wheel: %+v", ix.Recorder.Requests())
		}
	})
}
