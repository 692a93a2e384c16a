//go:build linux

package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// The side-by-side figures of issue "performance": every variant is run in
// turn, round after round, so that the machine's noise falls on all alike,
// and only ratios of medians are reported.
const (
	chunkedURL  = "https://pypi.chunked.example/simple/"
	manyFeeds   = 1000
	chunkedSize = 6 << 10
)

// variant is one command line under comparison.
type variant struct {
	name string
	p    probe
	env  []string
}

// ratioResults are the medians of each variant, by name.
type ratioResults map[string]time.Duration

// measureRatios builds the hello-world floor, sets up the configs and the
// tray, and measures the variants side by side, n rounds.
func measureRatios(ctx context.Context, n int, env []string, bin, tmp string) (ratioResults, error) {
	floor, err := helloWorld(ctx, tmp)
	if err != nil {
		return nil, err
	}
	feedkey := filepath.Join(bin, "feedkey")
	helper := filepath.Join(bin, "feedkey-keyring")
	// No variant but "tray" may find a tray.
	noTray := append(env[:len(env):len(env)], "FEEDKEY_SOCKET="+filepath.Join(tmp, "no-tray", "control.sock"))

	chunked := strings.Repeat("c", chunkedSize)
	if err := runWithStdin(ctx, noTray, chunked+"\n", feedkey, "add", chunkedURL, "--kind", "token"); err != nil {
		return nil, err
	}
	// Three feeds in the config (the bench feed, the chunked one, one more).
	if err := runWithStdin(ctx, noTray, "third\n", feedkey, "add", "https://third.example/simple/", "--kind", "token"); err != nil {
		return nil, err
	}
	// The same feeds and 997 others, in a config of their own.
	base, err := os.ReadFile(envValue(env, "FEEDKEY_CONFIG"))
	if err != nil {
		return nil, err
	}
	var many strings.Builder
	many.Write(base)
	for i := range manyFeeds - 3 {
		fmt.Fprintf(&many, "\n[[feed]]\nid = \"team-%04d\"\nkind = \"token\"\nurl = \"https://pypi%04d.example/simple/\"\nusername = \"__token__\"\n", i, i)
	}
	manyCfg := filepath.Join(tmp, "many.toml")
	if err := os.WriteFile(manyCfg, []byte(many.String()), 0o600); err != nil {
		return nil, err
	}

	sock := filepath.Join(tmp, "tray", "control.sock")
	withTray := append(env[:len(env):len(env)], "FEEDKEY_SOCKET="+sock)
	stop, err := startTray(ctx, feedkey, withTray, sock)
	if err != nil {
		return nil, err
	}
	defer stop()

	get := func(url string) []string { return []string{"get", url, feedUser} }
	vs := []variant{
		{"floor", probe{path: floor, want: "ok\n"}, noTray},
		{"helper", probe{path: helper, args: get(feedURL), want: feedToken + "\n"}, noTray},
		{"helper+tray", probe{path: helper, args: get(feedURL), want: feedToken + "\n"}, withTray},
		{"helper 1000 feeds", probe{path: helper, args: get(feedURL), want: feedToken + "\n"}, append(noTray[:len(noTray):len(noTray)], "FEEDKEY_CONFIG="+manyCfg)},
		{"helper chunked", probe{path: helper, args: get(chunkedURL), want: chunked + "\n"}, noTray},
		{"python", probe{path: python, args: []string{"-m", "keyring", "get", pyService, pyUser}, want: pyPassword + "\n"}, env},
	}
	times := make([][]time.Duration, len(vs))
	for round := range n {
		for i, v := range vs {
			if v.name == "python" && round%4 != 0 {
				continue // slow: a quarter as many runs
			}
			d, err := v.p.run(ctx, v.env)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", v.name, err)
			}
			times[i] = append(times[i], d)
		}
	}
	out := ratioResults{}
	for i, v := range vs {
		out[v.name] = median(times[i])
	}
	return out, nil
}

// reportRatios prints the ratios and the targets.
func reportRatios(w io.Writer, r ratioResults) {
	x := func(a, b string) float64 { return float64(r[a]) / float64(r[b]) }
	fmt.Fprintf(w, "\nside by side (ratios of medians; floor = a CGO_ENABLED=0 Go hello-world, %s):\n", ms(r["floor"]))
	line := func(what string, got float64, target string, ok bool) {
		verdict := "PASS"
		if !ok {
			verdict = "MISS"
		}
		fmt.Fprintf(w, "  %-44s %6.2f×   target %-7s %s\n", what, got, target, verdict)
	}
	line("helper with the tray running / floor", x("helper+tray", "floor"), "≤ 1.5×", x("helper+tray", "floor") <= 1.5)
	line("helper without the tray / floor", x("helper", "floor"), "≤ 2.2×", x("helper", "floor") <= 2.2)
	line("python keyring / helper with the tray", x("python", "helper+tray"), "≥ 80×", x("python", "helper+tray") >= 80)
	line("python keyring / helper without the tray", x("python", "helper"), "", true)
	line("helper, 1000 feeds / 3 feeds (no tray)", x("helper 1000 feeds", "helper"), "≤ 1.2×", x("helper 1000 feeds", "helper") <= 1.2)
	line("helper, 6 KB chunked / small token (no tray)", x("helper chunked", "helper"), "≤ 1.3×", x("helper chunked", "helper") <= 1.3)
}

// helloWorld builds the process-start floor: a pure Go program that prints
// one line, built as the helper is.
func helloWorld(ctx context.Context, tmp string) (string, error) {
	dir := filepath.Join(tmp, "hello")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return "", err
	}
	src := "package main\n\nimport \"os\"\n\nfunc main() { os.Stdout.WriteString(\"ok\\n\") }\n"
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(src), 0o600); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module hello\n\ngo 1.26\n"), 0o600); err != nil {
		return "", err
	}
	out := filepath.Join(dir, "hello")
	cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOFLAGS=")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build the hello-world floor: %v\n%s", err, b)
	}
	return out, nil
}

// startTray runs `feedkey tray` (without a menu: no tray host on the
// bench's bus) until stop, and waits for its socket.
func startTray(ctx context.Context, feedkey string, env []string, sock string) (stop func(), err error) {
	cmd := exec.CommandContext(ctx, feedkey, "tray")
	cmd.Env = env
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	go io.Copy(io.Discard, bufio.NewReader(stderr))
	stop = func() { cmd.Process.Kill(); cmd.Wait() }
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return stop, nil
		}
		if time.Now().After(deadline) {
			stop()
			return nil, fmt.Errorf("the tray's socket %s never appeared", sock)
		}
	}
}

// envValue returns the last value of key in env.
func envValue(env []string, key string) string {
	v := ""
	for _, kv := range env {
		if k, val, ok := strings.Cut(kv, "="); ok && k == key {
			v = val
		}
	}
	return v
}
