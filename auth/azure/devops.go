package azure

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/auth/untrusted"
)

// Token lifetimes (SPEC §4.4).
const (
	sessionLifetime = 8 * time.Hour
	maxSession      = 24 * time.Hour
	defaultScope    = "vso.packaging_write"
)

// ErrNeverSignedIn is Azure DevOps' TF401444: the account has never opened
// the organization in a browser, so it cannot get tokens for it yet.
var ErrNeverSignedIn = errors.New("TF401444")

// DevOpsError is an error answer of an Azure DevOps token API.
type DevOpsError struct {
	API     string // "session token", "personal access token"
	Status  int
	Message string // the server's message, shortened
}

func (e *DevOpsError) Error() string {
	if e.Message != "" {
		return fmt.Sprintf("%s API: HTTP %d: %s", e.API, e.Status, e.Message)
	}
	return fmt.Sprintf("%s API: HTTP %d", e.API, e.Status)
}

// issued is a feed credential made from an Entra token.
type issued struct {
	Token   string
	Expires time.Time
}

// sessionToken asks for a self-describing session token. Org policies may
// cap token lifetimes, and the API then refuses validTo with HTTP 400: it
// is asked once more without one (SPEC §4.4).
func (c *Client) sessionToken(ctx context.Context, d Discovery, entra string) (issued, error) {
	body := map[string]any{
		"displayName": displayName(),
		"scope":       defaultScope,
		"validTo":     c.now().Add(sessionLifetime).UTC().Format(time.RFC3339),
	}
	endpoint := d.AuthEndpoint + "_apis/Token/SessionTokens?tokenType=SelfDescribing&api-version=5.0-preview.1"
	var ans struct {
		Token   string `json:"token"`
		ValidTo string `json:"validTo"`
	}
	err := c.postJSON(ctx, "session token", endpoint, entra, body, &ans)
	var de *DevOpsError
	if errors.As(err, &de) && de.Status == http.StatusBadRequest {
		delete(body, "validTo")
		if err = c.postJSON(ctx, "session token", endpoint, entra, body, &ans); err != nil {
			return issued{}, fmt.Errorf("%w (the organization's token policy refused the request; ask its admin, or use token = \"entra\")", err)
		}
	}
	if err != nil {
		return issued{}, c.devopsError(d, err)
	}
	return c.issued("session token", ans.Token, ans.ValidTo, maxSession)
}

// pat creates a personal access token for this org only.
func (c *Client) pat(ctx context.Context, d Discovery, entra string) (issued, error) {
	days := 365
	if v := c.getenv("AZURE_DEVOPS_PAT_DURATION"); v != "" {
		if _, err := fmt.Sscanf(v, "%d", &days); err != nil || days <= 0 {
			return issued{}, fmt.Errorf("AZURE_DEVOPS_PAT_DURATION=%q: want a number of days", v)
		}
	}
	body := map[string]any{
		"displayName": displayName(),
		"scope":       defaultScope,
		"validTo":     c.now().Add(time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339),
		"allOrgs":     false,
	}
	var ans struct {
		PatToken struct {
			Token   string `json:"token"`
			ValidTo string `json:"validTo"`
		} `json:"patToken"`
		PatTokenError string `json:"patTokenError"`
	}
	endpoint := d.AuthEndpoint + "_apis/tokens/pats?api-version=7.1-preview.1"
	if err := c.postJSON(ctx, "personal access token", endpoint, entra, body, &ans); err != nil {
		return issued{}, c.devopsError(d, err)
	}
	if ans.PatTokenError != "" && ans.PatTokenError != "none" {
		return issued{}, fmt.Errorf("personal access token API: %s", untrusted.OneLine(ans.PatTokenError, 100))
	}
	return c.issued("personal access token", ans.PatToken.Token, ans.PatToken.ValidTo, 0)
}

func (c *Client) issued(api, token, validTo string, maxLife time.Duration) (issued, error) {
	if token == "" {
		return issued{}, fmt.Errorf("%s API: the answer has no token", api)
	}
	exp, err := time.Parse(time.RFC3339Nano, validTo)
	if err != nil {
		return issued{}, fmt.Errorf("%s API: validTo %q is not a time", api, untrusted.OneLine(validTo, 40))
	}
	if maxLife > 0 && exp.After(c.now().Add(maxLife)) {
		exp = c.now().Add(maxLife)
	}
	return issued{Token: token, Expires: exp.UTC()}, nil
}

// devopsError names the fix for the errors people run into.
func (c *Client) devopsError(d Discovery, err error) error {
	var de *DevOpsError
	if errors.As(err, &de) && strings.Contains(de.Message, "TF401444") {
		return fmt.Errorf("%w: this account has never opened the organization: sign in once at https://dev.azure.com/%s in a browser, then try again", ErrNeverSignedIn, d.Org)
	}
	return err
}

// postJSON POSTs body with the Entra token to an Azure DevOps API that
// discovery validated, and decodes a 2xx answer into out.
func (c *Client) postJSON(ctx context.Context, api, endpoint, entra string, body, out any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+entra)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	// Without it, Azure DevOps answers a sign-in page instead of 401.
	req.Header.Set("X-TFS-FedAuthRedirect", "Suppress")
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("%s API: %w", api, httpclient.Clean(err))
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s API: read answer: %w", api, err)
	}
	if resp.StatusCode/100 != 2 {
		e := &DevOpsError{API: api, Status: resp.StatusCode}
		var wire struct {
			Message string `json:"message"`
		}
		if json.Unmarshal(data, &wire) == nil {
			e.Message = untrusted.OneLine(wire.Message, 300)
		}
		return e
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s API: malformed answer", api)
	}
	return nil
}

// displayName labels tokens in the user's Azure DevOps token list.
func displayName() string {
	host, _ := os.Hostname()
	if host == "" {
		host = "this machine"
	}
	return "feedkey on " + host
}
