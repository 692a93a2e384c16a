package azure

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/cache"
	"github.com/AzureAD/microsoft-authentication-library-for-go/apps/public"

	"github.com/feedkey/feedkey/auth"
	"github.com/feedkey/feedkey/auth/untrusted"
)

// Scope is Azure DevOps' resource; narrower scopes fail for first-party
// client ids (SPEC §4.3).
const Scope = "499b84ac-1321-427f-aa17-267ca6975798/.default"

// EnvManagedIdentity, set to 1, lets feedkey use the machine's managed
// identity (an Azure VM, App Service, Arc server...).
const EnvManagedIdentity = "FEEDKEY_AZURE_MANAGED_IDENTITY"

// DefaultClientID is the Azure CLI's public client, azidentity's default.
const DefaultClientID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"

// entraToken is an access token for Azure DevOps.
type entraToken struct {
	Token   string
	Expires time.Time
	// ServicePrincipal: an app identity, whose token is used as is (SPEC §4.4).
	ServicePrincipal bool
}

// keychainCache is MSAL's token cache, held in memory while a flow runs and
// saved by the caller into the credential's secret Data: refresh tokens
// live in the keychain, never in a plain file (SPEC §2.3). azidentity's own
// persistent cache is not used: on Linux its key lives in the kernel
// keyring, which a reboot clears (SPEC §12).
type keychainCache struct{ data []byte }

func (k *keychainCache) Replace(_ context.Context, u cache.Unmarshaler, _ cache.ReplaceHints) error {
	if len(k.data) == 0 {
		return nil
	}
	return u.Unmarshal(k.data)
}

func (k *keychainCache) Export(_ context.Context, m cache.Marshaler, _ cache.ExportHints) error {
	b, err := m.Marshal()
	if err == nil {
		k.data = b
	}
	return err
}

// refreshState returns what later silent use needs of MSAL's cache JSON:
// accounts, refresh tokens, app metadata, and the access token (git's
// credential helper answers with it while it is valid), without the id
// tokens, which nothing reads again and a refresh replaces. It keeps the
// record small for the kernel keyring's per-user quota of 20,000 bytes
// (SPEC §2.4). A cache that does not parse is kept whole.
func refreshState(data []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(data, &m) != nil {
		return data
	}
	delete(m, "IdToken")
	out, err := json.Marshal(m)
	if err != nil {
		return data
	}
	return out
}

// publicClient builds MSAL's public client for d's authority over the cache.
func (c *Client) publicClient(d Discovery, clientID string, kc *keychainCache) (public.Client, error) {
	opts := []public.Option{
		public.WithAuthority(d.Authority),
		public.WithCache(kc),
		public.WithHTTPClient(c.http()),
	}
	if !isMicrosoftAuthority(d.Authority) {
		// Instance discovery asks Microsoft about the authority; a
		// configured one (sovereign cloud, test simulator) is trusted as is.
		opts = append(opts, public.WithInstanceDiscovery(false))
	}
	pc, err := public.New(clientID, opts...)
	if err != nil {
		return public.Client{}, fmt.Errorf("set up Entra ID sign-in: %w", err)
	}
	return pc, nil
}

func isMicrosoftAuthority(authority string) bool {
	for _, h := range authorityHosts {
		if strings.HasPrefix(authority, "https://"+h+"/") {
			return true
		}
	}
	return false
}

// interactive signs in with the browser (authorization code + PKCE on a
// loopback redirect), or with a device code when asked to or when no
// browser can be opened.
func (c *Client) interactive(ctx context.Context, pc public.Client, deviceCode bool, p auth.Prompter) (public.AuthResult, error) {
	if !deviceCode {
		res, err := pc.AcquireTokenInteractive(ctx, []string{Scope}, public.WithOpenURL(func(u string) error {
			// MSAL builds this from the validated authority; check it
			// anyway, as every URL opened (SPEC §8).
			if _, err := untrusted.URL(u); err != nil {
				return fmt.Errorf("the sign-in page: %w", err)
			}
			return p.OpenBrowser(ctx, u)
		}))
		if !errors.Is(err, auth.ErrNoBrowser) {
			return res, err
		}
	}
	dc, err := pc.AcquireTokenByDeviceCode(ctx, []string{Scope})
	if err != nil {
		return public.AuthResult{}, err
	}
	if _, err := untrusted.URL(dc.Result.VerificationURL); err != nil {
		return public.AuthResult{}, fmt.Errorf("the device sign-in page: %w", err)
	}
	if err := p.DeviceCode(ctx, auth.DeviceCode{URL: dc.Result.VerificationURL, Code: untrusted.Text(dc.Result.UserCode), Expires: dc.Result.ExpiresOn}); err != nil {
		return public.AuthResult{}, err
	}
	return dc.AuthenticationResult(ctx)
}

// silent gets a token from the cached account and its refresh token.
func (c *Client) silent(ctx context.Context, pc public.Client, homeAccountID string) (public.AuthResult, error) {
	accounts, err := pc.Accounts(ctx)
	if err != nil {
		return public.AuthResult{}, err
	}
	for _, a := range accounts {
		if a.HomeAccountID == homeAccountID || homeAccountID == "" {
			return pc.AcquireTokenSilent(ctx, []string{Scope}, public.WithSilentAccount(a))
		}
	}
	return public.AuthResult{}, auth.ErrSignInRequired
}

// environmentToken tries the non-interactive sources a CI machine or a
// service configures, in SPEC §4.3's order: a service principal from the
// environment, workload identity. It returns ok=false when none is set up.
func (c *Client) environmentToken(ctx context.Context, d Discovery) (entraToken, bool, error) {
	// c.http() already retries 429 and 5xx: azcore's own retries on top
	// would make up to 16 tries of each.
	opts := azcore.ClientOptions{Transport: c.http(), Retry: policy.RetryOptions{MaxRetries: -1}}
	host := strings.TrimSuffix(d.Authority, "/"+lastSegment(d.Authority)) + "/"
	opts.Cloud = cloud.Configuration{ActiveDirectoryAuthorityHost: host}
	disable := !isMicrosoftAuthority(d.Authority)
	var cred azcore.TokenCredential
	switch {
	case c.getenv("AZURE_FEDERATED_TOKEN_FILE") != "" && c.getenv("AZURE_CLIENT_ID") != "" && c.getenv("AZURE_TENANT_ID") != "":
		wi, err := azidentity.NewWorkloadIdentityCredential(&azidentity.WorkloadIdentityCredentialOptions{
			ClientOptions: opts, DisableInstanceDiscovery: disable,
			ClientID: c.getenv("AZURE_CLIENT_ID"), TenantID: c.getenv("AZURE_TENANT_ID"),
			TokenFilePath: c.getenv("AZURE_FEDERATED_TOKEN_FILE"),
		})
		if err != nil {
			return entraToken{}, true, fmt.Errorf("workload identity: %w", err)
		}
		cred = wi
	case c.getenv("AZURE_CLIENT_ID") != "" && c.getenv("AZURE_TENANT_ID") != "" &&
		(c.getenv("AZURE_CLIENT_SECRET") != "" || c.getenv("AZURE_CLIENT_CERTIFICATE_PATH") != ""):
		// EnvironmentCredential reads the process environment itself.
		env, err := azidentity.NewEnvironmentCredential(&azidentity.EnvironmentCredentialOptions{ClientOptions: opts, DisableInstanceDiscovery: disable})
		if err != nil {
			return entraToken{}, true, fmt.Errorf("service principal from the environment: %w", err)
		}
		cred = env
	case c.getenv(EnvManagedIdentity) == "1":
		// Opt-in only: probing for a managed identity endpoint is slow
		// on a machine that has none (SPEC §4.3).
		o := &azidentity.ManagedIdentityCredentialOptions{ClientOptions: opts}
		if id := c.getenv("AZURE_CLIENT_ID"); id != "" {
			o.ID = azidentity.ClientID(id)
		}
		mi, err := azidentity.NewManagedIdentityCredential(o)
		if err != nil {
			return entraToken{}, true, fmt.Errorf("managed identity: %w", err)
		}
		cred = mi
	default:
		return entraToken{}, false, nil
	}
	tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return entraToken{}, true, explainEntra(err)
	}
	return entraToken{Token: tok.Token, Expires: tok.ExpiresOn.UTC(), ServicePrincipal: true}, true, nil
}

// cliToken gets a token from the Azure CLI when `az` is on PATH and signed
// in; ok=false when there is no az.
func (c *Client) cliToken(ctx context.Context, d Discovery) (entraToken, bool, error) {
	if _, err := c.lookPath("az"); err != nil {
		return entraToken{}, false, nil
	}
	opts := &azidentity.AzureCLICredentialOptions{}
	if d.Tenant != "" && d.Tenant != personalTenant {
		opts.TenantID = d.Tenant
	}
	cli, err := azidentity.NewAzureCLICredential(opts)
	if err != nil {
		return entraToken{}, true, err
	}
	tok, err := cli.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{Scope}})
	if err != nil {
		return entraToken{}, true, fmt.Errorf("Azure CLI: %w", err)
	}
	return entraToken{Token: tok.Token, Expires: tok.ExpiresOn.UTC()}, true, nil
}

func lastSegment(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}

// EntraError is an error answer of Microsoft Entra ID, said in one line of
// what to do. It keeps the library's error (MSAL's CallErr, azidentity's
// AuthenticationFailedError) in its chain, and wraps auth.ErrSignInRequired
// when only a new sign-in helps.
type EntraError struct {
	Msg string
	Err error // the library's error
	// SignIn: only a new sign-in helps.
	SignIn bool
}

func (e *EntraError) Error() string { return e.Msg }

// Unwrap returns the library's error, and auth.ErrSignInRequired when only
// a sign-in helps.
func (e *EntraError) Unwrap() []error {
	if e.SignIn {
		return []error{auth.ErrSignInRequired, e.Err}
	}
	return []error{e.Err}
}

// entraCodes maps the AADSTS codes people hit (Entra's documented, stable
// error identifiers, which MSAL and azidentity carry only in the text of
// the server's answer) to what to do (SPEC §4.3).
var entraCodes = []struct {
	codes  []string
	msg    string
	signIn bool
}{
	{[]string{"AADSTS700082", "AADSTS700084", "AADSTS50173"}, "the saved sign-in has expired", true},
	{[]string{"AADSTS50076", "AADSTS50079", "AADSTS50158", "AADSTS53003", "AADSTS53000", "interaction_required"},
		"the organization requires multi-factor authentication or a Conditional Access check: sign in with the browser (not a device code)", true},
	{[]string{"AADSTS50020", "AADSTS90072", "AADSTS50034"}, "this account is not in the organization's Microsoft Entra tenant: sign in with an account of that tenant (or ask to be invited)", false},
	{[]string{"AADSTS90094", "AADSTS65001"}, "an administrator must consent to this app in the organization's tenant", false},
}

// explainEntra turns the Entra errors people hit into what to do.
func explainEntra(err error) error {
	msg := err.Error()
	for _, c := range entraCodes {
		for _, code := range c.codes {
			if strings.Contains(msg, code) {
				return &EntraError{Msg: c.msg, Err: err, SignIn: c.signIn}
			}
		}
	}
	return &EntraError{Msg: "Microsoft Entra ID: " + untrusted.OneLine(strings.SplitN(msg, "\n", 2)[0], 300), Err: err}
}
