package posit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"golang.org/x/oauth2"
)

// Device flow errors that end a sign-in (RFC 8628 §3.5).
var (
	ErrAccessDenied = errors.New("the sign-in was denied")
	ErrCodeExpired  = errors.New("the sign-in code expired before it was approved")
)

// deviceAuth is the answer of POST /__api__/device (RFC 8628 §3.2 fields).
// golang.org/x/oauth2's DeviceAuth cannot make this call: it always sends
// client_id, and PPM takes none (it brokers its identity provider). Its
// DeviceAuthResponse is not used either: it turns expires_in into a time
// with the wall clock, which the injectable clock here must own.
type deviceAuth struct {
	DeviceCode              string `json:"device_code"`
	UserCode                string `json:"user_code"`
	VerificationURI         string `json:"verification_uri"`
	VerificationURIComplete string `json:"verification_uri_complete"`
	ExpiresIn               int64  `json:"expires_in"`
	Interval                int64  `json:"interval"`
}

// startDevice begins a device sign-in with a PKCE S256 challenge (SPEC §5).
func (c *Client) startDevice(ctx context.Context, addr, verifier string) (*deviceAuth, error) {
	form := url.Values{
		"code_challenge_method": {"S256"},
		"code_challenge":        {oauth2.S256ChallengeFromVerifier(verifier)},
	}
	var da deviceAuth
	if err := c.postForm(ctx, addr, "device", form, &da); err != nil {
		return nil, fmt.Errorf("start device sign-in at %s: %w", addr, err)
	}
	if da.DeviceCode == "" || da.UserCode == "" || (da.VerificationURI == "" && da.VerificationURIComplete == "") {
		return nil, fmt.Errorf("start device sign-in at %s: the answer lacks device_code, user_code or verification_uri", addr)
	}
	return &da, nil
}

// lifetime is how long the device code is good for.
func (da *deviceAuth) lifetime() time.Duration {
	if da.ExpiresIn <= 0 {
		return 300 * time.Second // SPEC §5 default
	}
	return time.Duration(da.ExpiresIn) * time.Second
}

// pollDevice waits for the person to approve and returns the identity token.
// It is hand-written because oauth2.Config.DeviceAccessToken rejects an
// answer without access_token, and PPM answers with an id_token only.
func (c *Client) pollDevice(ctx context.Context, addr string, da *deviceAuth, verifier string) (string, error) {
	interval := time.Duration(da.Interval) * time.Second
	if interval <= 0 {
		interval = 5 * time.Second // RFC 8628 §3.2 default
	}
	deadline := c.now().Add(da.lifetime())
	form := url.Values{"device_code": {da.DeviceCode}, "code_verifier": {verifier}}
	for {
		// RFC 8628 §3.5: wait the interval before each poll, the first too.
		if err := c.sleep(ctx, interval); err != nil {
			return "", err
		}
		if c.now().After(deadline) {
			return "", ErrCodeExpired
		}
		var ok struct {
			IDToken string `json:"id_token"`
		}
		err := c.postForm(ctx, addr, "device_access", form, &ok)
		var e *Error
		switch {
		case err == nil && ok.IDToken != "":
			return ok.IDToken, nil
		case err == nil:
			return "", errors.New("device_access: the answer has no id_token")
		case !errors.As(err, &e):
			return "", err
		case e.Code == "authorization_pending":
		case e.Code == "slow_down":
			interval += 5 * time.Second // RFC 8628 §3.5
		case e.Code == "access_denied":
			return "", ErrAccessDenied
		case e.Code == "expired_token":
			return "", ErrCodeExpired
		case e.Temporary():
			// A busy or failing server: keep polling, more slowly.
			interval = min(2*interval, time.Minute)
		default:
			return "", err
		}
	}
}
