package simtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// GitEnv returns environment variables, to append to os.Environ(), that
// keep git away from the machine's and the user's configuration and from
// any prompt, and make it trust only the CA in caFile (GIT_SSL_CAINFO, which
// build machines export, overrides http.sslCAInfo): a test's git uses only
// what it is told.
func GitEnv(caFile string) []string {
	return []string{
		"GIT_SSL_CAINFO=" + caFile, "CURL_CA_BUNDLE=" + caFile,
		"GIT_CONFIG_NOSYSTEM=1",
		"GIT_CONFIG_GLOBAL=" + os.DevNull,
		"GIT_TERMINAL_PROMPT=0",
		"GIT_ASKPASS=", "SSH_ASKPASS=",
		"GIT_AUTHOR_NAME=feedkey test", "GIT_AUTHOR_EMAIL=test@feedkey.invalid",
		"GIT_COMMITTER_NAME=feedkey test", "GIT_COMMITTER_EMAIL=test@feedkey.invalid",
	}
}

// Git runs Debian's git with args in dir and [GitEnv], for local work (it
// trusts no server), failing the test if it fails, and returns its
// standard output.
func Git(t testing.TB, dir string, args ...string) string {
	t.Helper()
	git, err := exec.LookPath("git")
	if err != nil {
		t.Fatalf("git is needed (build/test.sh installs it): %v", err)
	}
	cmd := exec.Command(git, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), GitEnv(os.DevNull)...)
	out, err := cmd.Output()
	if err != nil {
		var stderr []byte
		if ee, ok := err.(*exec.ExitError); ok {
			stderr = ee.Stderr
		}
		t.Fatalf("git %q: %v\n%s", args, err, stderr)
	}
	return string(out)
}

// BareRepo creates, in a temporary directory removed when the test ends, a
// bare git repository named name whose branch main holds one commit (a
// README.md), with pushes over HTTP enabled, for [simulator.DevOps.AddRepo].
// It returns the repository's directory.
func BareRepo(t testing.TB, name string) string {
	t.Helper()
	base := t.TempDir()
	bare := filepath.Join(base, name)
	work := filepath.Join(t.TempDir(), "work")
	Git(t, base, "init", "-q", "--bare", "-b", "main", bare)
	Git(t, bare, "config", "http.receivepack", "true")
	Git(t, base, "init", "-q", "-b", "main", work)
	if err := os.WriteFile(filepath.Join(work, "README.md"), []byte("# "+name+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	Git(t, work, "add", "README.md")
	Git(t, work, "commit", "-q", "-m", "first commit")
	Git(t, work, "push", "-q", bare, "main")
	return bare
}
