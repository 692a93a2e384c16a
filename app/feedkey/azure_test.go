//go:build linux

package main_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/feedkey/feedkey/auth/azure"
	"github.com/feedkey/feedkey/auth/store"
	"github.com/feedkey/feedkey/internal/testbin"
	"github.com/feedkey/feedkey/internal/testbus"
	"github.com/feedkey/feedkey/simulator"
	"github.com/feedkey/feedkey/simulator/simtest"
)

const (
	azTenant = "72f988bf-86f1-41af-91ab-2d7cd011db47"
	azUser   = "alice@contoso.example"
)

// azureWorld is a simulated Entra ID and Azure DevOps (two hosts), a user's
// config trusting them, the keychain, and a browser that signs in.
type azureWorld struct {
	t   *testing.T
	bin testbin.Bin
	az  *simulator.Azure
	bus *testbus.Session
	env []string
	cfg string
}

// entraBrowser follows Entra's authorize page like a browser: it fetches the
// page and posts its auto-submitting form to MSAL's loopback redirect.
const entraBrowser = `#!/bin/sh
page=$(curl -sf --cacert "$SSL_CERT_FILE" "$1") || exit 1
action=$(printf '%s\n' "$page" | sed -n 's/.*<form method="post" action="\([^"]*\)".*/\1/p' | sed 's/&amp;/\&/g')
set --
for kv in $(printf '%s\n' "$page" | sed -n 's/.*<input type="hidden" name="\([^"]*\)" value="\([^"]*\)".*/\1=\2/p'); do
  set -- "$@" --data-urlencode "$kv"
done
exec curl -sf -o /dev/null "$@" "$action"
`

func newAzureWorld(t *testing.T, setup func(e *simulator.Entra, d *simulator.DevOps)) *azureWorld {
	t.Helper()
	e, d := &simulator.Entra{}, &simulator.DevOps{}
	if setup != nil {
		setup(e, d)
	}
	az, err := simulator.StartAzure(e, d)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(az.Close)
	e.AddTenant(azTenant, "contoso.example")
	e.AddUser(azTenant, azUser)
	for _, org := range []string{"contoso", "fabrikam"} {
		d.AddOrg(org, azTenant)
		d.AddFeed(org, "", "py")
		if err := d.AddWheel(org, "py", simulator.Wheel{Name: "az-demo", Version: "3.0",
			Files: map[string]string{"az_demo/__init__.py": "VALUE = 'from " + org + "'\n"}}); err != nil {
			t.Fatal(err)
		}
	}
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := az.CA.WriteFile(caFile); err != nil {
		t.Fatal(err)
	}
	browserDir := filepath.Join(dir, "browser")
	os.MkdirAll(browserDir, 0o755)
	if err := os.WriteFile(filepath.Join(browserDir, "xdg-open"), []byte(entraBrowser), 0o755); err != nil {
		t.Fatal(err)
	}
	w := &azureWorld{t: t, bin: testbin.Build(t), az: az, cfg: filepath.Join(dir, "config.toml")}
	devops, entra := hostOf(az.DevOpsURL), hostOf(az.EntraURL)
	trust := fmt.Sprintf("[trust]\nazure_feed_hosts = [%q]\nazure_authority_hosts = [%q]\nazure_token_hosts = [%q]\n", devops, entra, devops)
	if err := os.WriteFile(w.cfg, []byte(trust), 0o600); err != nil {
		t.Fatal(err)
	}
	// Each world has its own keychain: credentials are per org, and every
	// world has a contoso.
	w.bus = testbus.Start(t, testbus.Options{})
	w.env = append(w.bus.Env(os.Environ()), simtest.PipEnv(caFile)...)
	w.env = append(w.env, "FEEDKEY_CONFIG="+w.cfg, "FEEDKEY_SYSTEM_CONFIG=",
		"AZURE_DEVOPS_EXT_PAT=", "AZURE_CLIENT_ID=", "AZURE_TENANT_ID=", "AZURE_CLIENT_SECRET=", "AZURE_FEDERATED_TOKEN_FILE=",
		"KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN=", "AZURE_DEVOPS_PAT_DURATION=", "DISPLAY=",
		// A helper that finds no credential would sign in on the terminal
		// when a person may be there; tests that want it say so.
		"FEEDKEY_NONINTERACTIVE=1",
		// No az on PATH unless a test puts one there.
		"PATH="+browserDir+string(os.PathListSeparator)+w.bin.Dir+":/usr/bin:/bin")
	return w
}

func hostOf(u string) string { return strings.TrimPrefix(u, "https://") }

func (w *azureWorld) setenv(kv ...string) { w.env = append(w.env, kv...) }

func (w *azureWorld) feedkey(args ...string) testbin.Result {
	w.t.Helper()
	return testbin.Run(w.t, w.env, "", w.bin.Feedkey, args...)
}

func (w *azureWorld) must(args ...string) testbin.Result {
	w.t.Helper()
	r := w.feedkey(args...)
	if r.Code != 0 {
		w.t.Fatalf("feedkey %q: exit %d: %s", args, r.Code, r.Stderr)
	}
	return r
}

func (w *azureWorld) feedURL(org string) string { return w.az.FeedURL(org, "", "py") }

// requests returns the recorded requests whose path contains part.
func requests(rec *simulator.Recorder, part string) []simulator.Request {
	var out []simulator.Request
	for _, r := range rec.Requests() {
		if strings.Contains(r.Path+"?"+r.Query, part) {
			out = append(out, r)
		}
	}
	return out
}

func grants(e *simulator.Entra, grant string) int {
	n := 0
	for _, r := range requests(e.Recorder, "/token") {
		if strings.HasSuffix(r.Form.Get("grant_type"), grant) {
			n++
		}
	}
	return n
}

// TestAzureBrowserSignInAndPip: add detects the feed, login signs in with
// the browser, a new process refreshes silently with the stored refresh
// token after the access token expires, and real pip installs — downloads
// that name the feed by GUID included. An org never signed in gets nothing.
func TestAzureBrowserSignInAndPip(t *testing.T) {
	w := newAzureWorld(t, func(e *simulator.Entra, d *simulator.DevOps) {
		// Session tokens capped below feedkey's 5-minute margin, so every
		// lookup refreshes; and the org refuses validTo beyond its cap.
		d.MaxValidTo = 4 * time.Minute
		e.AccessTokenLifetime = 4 * time.Minute
	})
	r := w.must("add", w.feedURL("contoso"))
	if !strings.Contains(r.Stdout, "Added azure feed contoso-py") {
		t.Fatalf("add = %q", r.Stdout)
	}
	w.must("add", w.feedURL("fabrikam"))

	r = w.must("login", "contoso")
	if !strings.Contains(r.Stdout, "Signed in to contoso-py") {
		t.Fatalf("login = %q %q", r.Stdout, r.Stderr)
	}
	if grants(w.az.Entra, "authorization_code") != 1 {
		t.Fatalf("no authorization code grant: %+v", requests(w.az.Entra.Recorder, "/token"))
	}
	// The org policy refused validTo: feedkey asked again without it.
	st := requests(w.az.DevOps.Recorder, "SessionTokens")
	if len(st) != 2 || st[0].Form.Get("validTo") == "" || st[1].Form.Has("validTo") {
		t.Errorf("session token calls = %d, forms %v", len(st), forms(st))
	}

	// A new process, access token expired: the refresh token does it.
	w.az.Entra.ExpireAccessTokens()
	r = w.must("token", w.feedURL("contoso"))
	if strings.TrimSpace(r.Stdout) == "" || grants(w.az.Entra, "refresh_token") == 0 {
		t.Fatalf("token = %q; refresh grants %d", r.Stdout, grants(w.az.Entra, "refresh_token"))
	}

	python, pip := simtest.Venv(t)
	install := func(org string) ([]byte, error) {
		cmd := exec.Command(pip, "install", "--no-cache-dir", "--force-reinstall", "--keyring-provider", "subprocess", "--index-url",
			simtest.WithUser(w.feedURL(org), "VssSessionToken"), "az-demo")
		cmd.Env = w.env
		return cmd.CombinedOutput()
	}
	w.az.DevOps.Recorder.Reset()
	if out, err := install("contoso"); err != nil {
		t.Fatalf("pip install: %v\n%s", err, out)
	}
	if out, err := exec.Command(python, "-c", "import az_demo; print(az_demo.VALUE)").Output(); err != nil || strings.TrimSpace(string(out)) != "from contoso" {
		t.Fatalf("import az_demo = %q %v", out, err)
	}
	downloads := requests(w.az.DevOps.Recorder, "/pypi/download/")
	if len(downloads) == 0 || !authorized(downloads) {
		t.Errorf("GUID downloads %d, authorized %v", len(downloads), authorized(downloads))
	}

	// fabrikam was never signed in: the helper exits 1, pip gets a 401.
	out, err := install("fabrikam")
	if err == nil || !strings.Contains(string(out), "sign-in needed for feed fabrikam-py: run `feedkey login fabrikam-py`") {
		t.Errorf("pip from a never-signed-in org: %v\n%s", err, out)
	}

	// No token in status.
	tok := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout)
	for _, args := range [][]string{{"status"}, {"status", "--json"}} {
		// fabrikam needs a sign-in: status says so with exit 1.
		if r := w.feedkey(args...); r.Code != 1 || strings.Contains(r.Stdout+r.Stderr, tok) || !strings.Contains(r.Stdout, "contoso-py") {
			t.Errorf("feedkey %q = %d, shows the token or not the feeds: %q", args, r.Code, r.Stdout)
		}
	}
}

func paths(rs []simulator.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Method+" "+r.Path)
	}
	return out
}

func forms(rs []simulator.Request) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Form.Encode())
	}
	return out
}

func authorized(rs []simulator.Request) bool {
	for _, r := range rs {
		if _, p, ok := basicAuth(r.Header.Get("Authorization")); !ok || p == "" {
			return false
		}
	}
	return true
}

// TestAzureDeviceCode signs in with a device code: the person reads the code
// on stderr and enters it; feedkey polls through authorization_pending.
func TestAzureDeviceCode(t *testing.T) {
	w := newAzureWorld(t, nil)
	w.must("add", w.feedURL("contoso"))
	deviceLogin(t, w, "contoso")
	if n := grants(w.az.Entra, "device_code"); n < 2 {
		t.Errorf("device_code polls = %d, want pending ones before success", n)
	}
	if r := w.must("token", w.feedURL("contoso")); strings.TrimSpace(r.Stdout) == "" {
		t.Error("no token after device sign-in")
	}
}

// deviceLogin runs `feedkey login ORG --device-code` and approves the code
// it prints, as the person would.
func deviceLogin(t *testing.T, w *azureWorld, org string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, w.bin.Feedkey, "login", org, "--device-code")
	cmd.Env = w.env
	stderr, _ := cmd.StderrPipe()
	var stdout strings.Builder
	cmd.Stdout = &stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	code := regexp.MustCompile(`enter the code (\S+) \(\d+ m left\)`)
	sc := bufio.NewScanner(stderr)
	approved := false
	for sc.Scan() {
		if m := code.FindStringSubmatch(sc.Text()); m != nil && !approved {
			// Let feedkey poll at least once before the person is done.
			waitFor(t, func() bool { return grants(w.az.Entra, "device_code") > 0 })
			if err := w.az.Entra.Approve(m[1]); err != nil {
				t.Fatal(err)
			}
			approved = true
		}
	}
	io.Copy(io.Discard, stderr)
	if err := cmd.Wait(); err != nil || !approved || !strings.Contains(stdout.String(), "Signed in to "+org) {
		t.Fatalf("login --device-code: %v, approved %v, %q", err, approved, stdout.String())
	}
}

// TestAzureDeviceCodeKernelKeyring: an SSH box with no Secret Service. The
// device-code sign-in keeps the org's credential in the kernel keyring,
// small (MSAL's cache without its id tokens, for the per-user quota), and a new process refreshes it silently after the access token
// expires.
func TestAzureDeviceCodeKernelKeyring(t *testing.T) {
	if !store.KeyctlAvailable() {
		t.Skip("the kernel keyring is blocked here (seccomp)")
	}
	w := newAzureWorld(t, func(e *simulator.Entra, d *simulator.DevOps) {
		// Below feedkey's 5-minute margin: every use refreshes beside the
		// answer.
		d.MaxValidTo = 4 * time.Minute
		e.AccessTokenLifetime = 4 * time.Minute
	})
	bare := testbus.Start(t, testbus.Options{NoSecretService: true})
	w.env = append(bare.Env(w.env), "FEEDKEY_STORE=") // automatic: no Secret Service here
	w.must("add", w.feedURL("contoso"))
	t.Cleanup(func() { w.feedkey("remove", "contoso-py") })
	deviceLogin(t, w, "contoso")

	var st struct {
		Store string
		Feeds []struct{ Credential string }
	}
	if err := json.Unmarshal([]byte(w.must("status", "--json").Stdout), &st); err != nil || st.Store != "keyctl" || len(st.Feeds) != 1 {
		t.Fatalf("status --json: %v %+v", err, st)
	}
	// What the quota pays for: every entry of the credential.
	svc := store.Service(st.Feeds[0].Credential)
	kc := store.Keyctl{}
	accts, err := kc.Accounts(context.Background(), svc)
	if err != nil || len(accts) == 0 {
		t.Fatalf("kernel keyring entries of %s: %v %v", svc, accts, err)
	}
	size := 0
	for _, a := range accts {
		v, err := kc.Get(context.Background(), svc, a)
		if err != nil {
			t.Fatal(err)
		}
		size += len(v)
	}
	t.Logf("the org's credential takes %d bytes in %d kernel keyring entries", size, len(accts))
	c, err := store.New(kc).Load(context.Background(), st.Feeds[0].Credential)
	if err != nil {
		t.Fatal(err)
	}
	if cache := c.Data["msal_cache"]; !strings.Contains(cache, "RefreshToken") || strings.Contains(cache, "IdToken") {
		t.Errorf("the kept MSAL cache is not just the refresh state: %.200s", cache)
	}

	w.az.Entra.ExpireAccessTokens()
	before := grants(w.az.Entra, "refresh_token")
	r := testbin.Run(t, w.env, "", w.bin.Keyring, "get", w.feedURL("contoso"), "VssSessionToken")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) == "" {
		t.Fatalf("helper after the access token expired: %d %q", r.Code, r.Stderr)
	}
	waitFor(t, func() bool { return grants(w.az.Entra, "refresh_token") > before })
}

// waitFor polls cond; the condition is a record another process makes, so
// there is no channel to wait on.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestAzureTokenKinds: PATs (with AZURE_DEVOPS_PAT_DURATION), Entra tokens
// (KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN) and AZURE_DEVOPS_EXT_PAT.
func TestAzureTokenKinds(t *testing.T) {
	w := newAzureWorld(t, nil)
	w.must("add", w.feedURL("contoso"), "--token", "pat")
	w.setenv("AZURE_DEVOPS_PAT_DURATION=7")
	w.must("login", "contoso")
	pats := requests(w.az.DevOps.Recorder, "/_apis/tokens/pats")
	if len(pats) != 1 || len(requests(w.az.DevOps.Recorder, "SessionTokens")) != 0 {
		t.Fatalf("PAT calls %d", len(pats))
	}
	validTo, err := time.Parse(time.RFC3339, pats[0].Form.Get("validTo"))
	if err != nil || validTo.Sub(time.Now()) < 6*24*time.Hour || validTo.Sub(time.Now()) > 8*24*time.Hour || pats[0].Form.Get("allOrgs") != "false" {
		t.Errorf("PAT request %v", pats[0].Form)
	}

	w.setenv("KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN=true")
	w.must("refresh", "contoso")
	tok := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout)
	if _, ok := w.az.Entra.ValidAccessToken(tok); !ok {
		t.Errorf("with KEYRINGS_ARTIFACTS_USE_BEARER_TOKEN the password is not the Entra token: %.20s…", tok)
	}

	w.setenv("AZURE_DEVOPS_EXT_PAT=my-ext-pat")
	w.must("refresh", "contoso")
	if tok := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout); tok != "my-ext-pat" {
		t.Errorf("AZURE_DEVOPS_EXT_PAT: token = %q", tok)
	}
}

// TestAzureNonInteractive: the Azure CLI, a workload identity token file and
// a service principal secret each give a token with no sign-in at all.
func TestAzureNonInteractive(t *testing.T) {
	t.Run("az", func(t *testing.T) {
		w := newAzureWorld(t, nil)
		w.must("add", w.feedURL("contoso"))
		at, err := w.az.Entra.IssueAccessToken(azUser)
		if err != nil {
			t.Fatal(err)
		}
		dir := t.TempDir()
		exp := time.Now().Add(time.Hour)
		az := fmt.Sprintf("#!/bin/sh\ncat <<EOF\n{\"accessToken\": %q, \"expiresOn\": %q, \"expires_on\": %d, \"tenant\": %q, \"tokenType\": \"Bearer\"}\nEOF\n",
			at, exp.Local().Format("2006-01-02 15:04:05.000000"), exp.Unix(), azTenant)
		os.WriteFile(filepath.Join(dir, "az"), []byte(az), 0o755)
		w.setenv("PATH=" + dir + ":" + w.bin.Dir + ":/usr/bin:/bin")
		if r := w.must("token", w.feedURL("contoso")); strings.TrimSpace(r.Stdout) == "" {
			t.Error("no token from az")
		}
		if len(requests(w.az.DevOps.Recorder, "SessionTokens")) != 1 {
			t.Error("the az token was not exchanged for a session token")
		}
	})
	t.Run("managed identity", func(t *testing.T) {
		w := newAzureWorld(t, nil)
		w.must("add", w.feedURL("contoso"))
		at, err := w.az.Entra.IssueAccessToken(azUser)
		if err != nil {
			t.Fatal(err)
		}
		// An App Service managed identity endpoint, as the platform runs it
		// on the machine itself.
		asked := make(chan url.Values, 4)
		mi := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			if r.Header.Get("X-IDENTITY-HEADER") != "platform-secret" {
				http.Error(rw, "no", http.StatusUnauthorized)
				return
			}
			asked <- r.URL.Query()
			fmt.Fprintf(rw, `{"access_token":%q,"expires_on":"%d","resource":"499b84ac-1321-427f-aa17-267ca6975798","token_type":"Bearer"}`,
				at, time.Now().Add(time.Hour).Unix())
		}))
		defer mi.Close()
		w.setenv("IDENTITY_ENDPOINT="+mi.URL+"/msi/token", "IDENTITY_HEADER=platform-secret")
		// Without the opt-in, nothing asks the endpoint.
		if r := w.feedkey("token", w.feedURL("contoso")); r.Code != 1 || len(asked) != 0 {
			t.Fatalf("without opt-in: %d %q, endpoint asked %d times", r.Code, r.Stderr, len(asked))
		}
		w.setenv(azure.EnvManagedIdentity + "=1")
		tok := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout)
		if tok != at {
			t.Errorf("managed identity token not used as is: %.20s…", tok)
		}
		if q := <-asked; !strings.HasPrefix(q.Get("resource"), "499b84ac-1321-427f-aa17-267ca6975798") {
			t.Errorf("asked for resource %q", q.Get("resource"))
		}
	})
	for _, source := range []string{"secret", "workload identity"} {
		t.Run(source, func(t *testing.T) {
			w := newAzureWorld(t, nil)
			w.az.Entra.AddApp(azTenant, "11111111-2222-3333-4444-555555555555", "app-secret")
			w.must("add", w.feedURL("contoso"))
			w.setenv("AZURE_CLIENT_ID=11111111-2222-3333-4444-555555555555", "AZURE_TENANT_ID="+azTenant)
			if source == "secret" {
				w.setenv("AZURE_CLIENT_SECRET=app-secret")
			} else {
				file := filepath.Join(t.TempDir(), "federated")
				// A Kubernetes service account token, as a CI agent mounts it.
				seg := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
				jwt := seg(`{"alg":"RS256","typ":"JWT"}`) + "." + seg(fmt.Sprintf(
					`{"iss":"https://oidc.ci.example","sub":"system:serviceaccount:ci:feedkey","aud":"api://AzureADTokenExchange","exp":%d}`,
					time.Now().Add(time.Hour).Unix())) + ".c2ln"
				os.WriteFile(file, []byte(jwt), 0o600)
				w.setenv("AZURE_FEDERATED_TOKEN_FILE=" + file)
			}
			tok := strings.TrimSpace(w.must("token", w.feedURL("contoso")).Stdout)
			if _, ok := w.az.Entra.ValidAccessToken(tok); !ok || grants(w.az.Entra, "client_credentials") == 0 {
				t.Errorf("service principal token not used as is: %.20s…", tok)
			}
			if len(requests(w.az.DevOps.Recorder, "SessionTokens")) != 0 {
				t.Error("an app identity's token was exchanged")
			}
		})
	}
}

// TestAzureUntrustedEndpoints: a challenge naming a host outside the
// allowlist is refused, and that host never sees a request — let alone a
// bearer token. A spoofed feed host gets nothing from the helper.
func TestAzureUntrustedEndpoints(t *testing.T) {
	evil := &simulator.Recorder{}
	evilSrv, err := simulator.NewServer(evil.Wrap(http.NotFoundHandler()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(evilSrv.Close)
	for _, tt := range []struct {
		name  string
		setup func(d *simulator.DevOps)
	}{
		{"authority", func(d *simulator.DevOps) { d.AuthorityURL = evilSrv.URL }},
		{"authorization endpoint", func(d *simulator.DevOps) {
			d.AuthorizationEndpoint = func(org string) string { return evilSrv.URL + "/" + org + "/" }
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := newAzureWorld(t, func(_ *simulator.Entra, d *simulator.DevOps) { tt.setup(d) })
			w.must("add", w.feedURL("contoso"))
			r := w.feedkey("login", "contoso")
			if r.Code != 1 || !strings.Contains(r.Stderr, "untrusted sign-in endpoint") {
				t.Errorf("login = %d %q", r.Code, r.Stderr)
			}
			if n := len(evil.Requests()); n != 0 {
				t.Errorf("the untrusted host got %d requests", n)
			}
			if n := len(requests(w.az.Entra.Recorder, "/token")); n != 0 && tt.name == "authority" {
				t.Errorf("Entra got %d token requests", n)
			}
		})
	}
	w := newAzureWorld(t, nil)
	w.must("add", w.feedURL("contoso"))
	w.must("login", "contoso")
	spoofed := strings.Replace(w.feedURL("contoso"), hostOf(w.az.DevOpsURL), hostOf(evilSrv.URL), 1)
	if r := testbin.Run(t, w.env, "", w.bin.Keyring, "get", spoofed, "VssSessionToken"); r.Code != 1 || r.Stdout != "" {
		t.Errorf("spoofed host got %q", r.Stdout)
	}
}

// TestAzureErrorsPeopleHit: personal-account orgs, TF401444, and a flaky
// service that feedkey rides out with backoff.
func TestAzureErrorsPeopleHit(t *testing.T) {
	t.Run("personal accounts", func(t *testing.T) {
		w := newAzureWorld(t, nil)
		w.az.Entra.AddUser(simulator.ConsumersTenantID, "bob@outlook.example")
		w.az.DevOps.AddOrg("bobs", simulator.PersonalTenantID)
		w.az.DevOps.AddFeed("bobs", "", "py")
		w.az.Entra.Configure(func(e *simulator.Entra) { e.SignInAs = "bob@outlook.example" })
		w.must("add", w.az.FeedURL("bobs", "", "py"))
		w.must("login", "bobs")
		auth := requests(w.az.Entra.Recorder, "/organizations/oauth2/v2.0/token")
		if len(auth) == 0 {
			t.Errorf("the organizations authority was not used: %v", requests(w.az.Entra.Recorder, "/token"))
		}
	})
	t.Run("TF401444", func(t *testing.T) {
		w := newAzureWorld(t, func(_ *simulator.Entra, d *simulator.DevOps) { d.RequireOpen = true })
		w.must("add", w.feedURL("contoso"))
		r := w.feedkey("login", "contoso")
		if r.Code != 1 || !strings.Contains(r.Stderr, "sign in once at https://dev.azure.com/contoso in a browser") {
			t.Errorf("login = %d %q", r.Code, r.Stderr)
		}
	})
	t.Run("MFA required", func(t *testing.T) {
		w := newAzureWorld(t, func(e *simulator.Entra, _ *simulator.DevOps) { e.RequireMFA = true })
		w.must("add", w.feedURL("contoso"))
		r := w.feedkey("login", "contoso")
		if r.Code != 1 || !strings.Contains(r.Stderr, "requires multi-factor authentication or a Conditional Access check") {
			t.Errorf("login = %d %q", r.Code, r.Stderr)
		}
	})
	t.Run("expired saved sign-in", func(t *testing.T) {
		w := newAzureWorld(t, func(e *simulator.Entra, _ *simulator.DevOps) { e.AccessTokenLifetime = 4 * time.Minute })
		w.must("add", w.feedURL("contoso"))
		w.must("login", "contoso")
		w.az.Entra.RevokeRefreshTokens()
		r := w.feedkey("refresh", "contoso")
		if r.Code != 1 || !strings.Contains(r.Stderr, "sign-in needed for feed contoso-py: run `feedkey login contoso-py`") {
			t.Errorf("refresh = %d %q", r.Code, r.Stderr)
		}
	})
	t.Run("network down", func(t *testing.T) {
		w := newAzureWorld(t, nil)
		w.must("add", w.feedURL("contoso"))
		w.az.DevOpsServer.Close()
		r := w.feedkey("login", "contoso")
		if r.Code != 1 || strings.Count(r.Stderr, "\n") != 1 || !strings.Contains(r.Stderr, "connection refused") {
			t.Errorf("login = %d %q", r.Code, r.Stderr)
		}
	})
	t.Run("5xx and 429", func(t *testing.T) {
		w := newAzureWorld(t, nil)
		w.must("add", w.feedURL("contoso"))
		w.az.Entra.FailNext(503, 1)
		w.az.DevOps.FailNext(429, 1)
		w.must("login", "contoso")
		// Each service failed a request once, which was asked again.
		for name, rec := range map[string]*simulator.Recorder{"Entra": w.az.Entra.Recorder, "DevOps": w.az.DevOps.Recorder} {
			rs, retried := rec.Requests(), false
			for i := 1; i < len(rs); i++ {
				retried = retried || (rs[i].Method == rs[i-1].Method && rs[i].Path == rs[i-1].Path)
			}
			if !retried {
				t.Errorf("%s: no retry of the failed request: %v", name, paths(rs))
			}
		}
	})
}
