package posit

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"time"

	"github.com/golang-jwt/jwt/v5"
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
func jwtExpiry(token string) (time.Time, error) {
	var claims jwt.RegisteredClaims
	if _, _, err := jwt.NewParser().ParseUnverified(token, &claims); err != nil {
		return time.Time{}, fmt.Errorf("not a JWT: %w", err)
	}
	if claims.ExpiresAt == nil || claims.ExpiresAt.Unix() <= 0 {
		return time.Time{}, errors.New("JWT has no exp")
	}
	return claims.ExpiresAt.UTC(), nil
}
