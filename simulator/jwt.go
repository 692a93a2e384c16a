package simulator

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"
)

// jwtClaims are the claims of the tokens the simulator issues.
type jwtClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

// jwtHeader is the JOSE header of every token the simulator issues.
const jwtHeader = `{"alg":"HS256","typ":"JWT"}`

var (
	errMalformedJWT = errors.New("malformed token")
	errJWTSignature = errors.New("bad token signature")
	errJWTExpired   = errors.New("token expired")
)

// signJWT returns c as a compact JWS signed with HMAC-SHA256 under key.
func signJWT(key []byte, c jwtClaims) string {
	payload, err := json.Marshal(c)
	if err != nil {
		panic(err) // jwtClaims always marshals
	}
	input := b64(jwtHeader) + "." + b64(string(payload))
	return input + "." + base64.RawURLEncoding.EncodeToString(mac(key, input))
}

// verifyJWT checks token's header and signature under key and that it has
// not expired at now, and returns its claims.
func verifyJWT(key []byte, token string, now time.Time) (jwtClaims, error) {
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return jwtClaims{}, errMalformedJWT
	}
	var header struct {
		Alg string `json:"alg"`
	}
	if err := decodeSegment(parts[0], &header); err != nil || header.Alg != "HS256" {
		return jwtClaims{}, errMalformedJWT
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return jwtClaims{}, errMalformedJWT
	}
	if !hmac.Equal(sig, mac(key, parts[0]+"."+parts[1])) {
		return jwtClaims{}, errJWTSignature
	}
	var c jwtClaims
	if err := decodeSegment(parts[1], &c); err != nil {
		return jwtClaims{}, errMalformedJWT
	}
	if !now.Before(time.Unix(c.Expiry, 0)) {
		return jwtClaims{}, errJWTExpired
	}
	return c, nil
}

func mac(key []byte, input string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(input))
	return h.Sum(nil)
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// decodeSegment decodes a base64url JSON segment of a token into v.
func decodeSegment(seg string, v any) error {
	data, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		return err
	}
	return json.Unmarshal(data, v)
}
