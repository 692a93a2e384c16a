package posit

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// token is a Package Manager access token and when it expires.
type token struct {
	AccessToken string
	Expiry      time.Time
}

// exchange trades an identity token for a Package Manager token (RFC 8693,
// SPEC §5). golang.org/x/oauth2 has no generic token-exchange call.
func (c *Client) exchange(ctx context.Context, addr, idToken string) (token, error) {
	form := url.Values{
		"grant_type":         {"urn:ietf:params:oauth:grant-type:token-exchange"},
		"subject_token":      {idToken},
		"subject_token_type": {"urn:ietf:params:oauth:token-type:id_token"},
	}
	var ans struct {
		AccessToken string `json:"access_token"`
		ExpiresIn   int64  `json:"expires_in"`
	}
	if err := c.postForm(ctx, addr, "token", form, &ans); err != nil {
		return token{}, fmt.Errorf("exchange identity token at %s: %w", addr, err)
	}
	if ans.AccessToken == "" {
		return token{}, fmt.Errorf("exchange identity token at %s: the answer has no access_token", addr)
	}
	// The token's own exp is authoritative; expires_in is the fallback.
	exp, err := jwtExpiry(ans.AccessToken)
	switch {
	case err == nil:
	case ans.ExpiresIn > 0:
		exp = c.now().Add(time.Duration(ans.ExpiresIn) * time.Second)
	default:
		exp = c.now().Add(time.Hour)
	}
	return token{AccessToken: ans.AccessToken, Expiry: exp}, nil
}

// jwtExpiry reads the exp claim of a JWT without verifying it: feedkey only
// needs to know when to refresh; the server checks the signature.
func jwtExpiry(jwt string) (time.Time, error) {
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		return time.Time{}, errors.New("not a JWT")
	}
	payload, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}, errors.New("JWT payload is not base64url")
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if err := json.Unmarshal(payload, &claims); err != nil || claims.Exp == "" {
		return time.Time{}, errors.New("JWT has no exp")
	}
	secs, err := claims.Exp.Float64()
	if err != nil || secs <= 0 {
		return time.Time{}, errors.New("JWT exp is not a time")
	}
	return time.Unix(int64(secs), 0).UTC(), nil
}
