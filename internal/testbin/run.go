package testbin

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Result is what a finished program left behind.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// Limit is how long a program may run in a test before it counts as hung.
// Every error path must answer well within it (SPEC §9).
const Limit = 5 * time.Second

// Run runs name with args, env and stdin, and fails t if it does not finish
// within Limit.
func Run(t testing.TB, env []string, stdin string, name string, args ...string) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), Limit)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("%s %q did not finish within %s (stderr: %s)", name, args, Limit, stderr.String())
	}
	r := Result{Stdout: stdout.String(), Stderr: stderr.String()}
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		r.Code = ee.ExitCode()
	case err != nil:
		t.Fatalf("run %s: %v", name, err)
	}
	return r
}
