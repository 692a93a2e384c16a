package simulator

import (
	"bytes"
	"encoding/json"
	"errors"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// jwtClaims are the claims of the tokens the simulated Package Manager
// issues.
type jwtClaims struct {
	Issuer   string `json:"iss"`
	Subject  string `json:"sub"`
	Audience string `json:"aud"`
	IssuedAt int64  `json:"iat"`
	Expiry   int64  `json:"exp"`
	ID       string `json:"jti"`
}

var (
	errMalformedJWT = errors.New("malformed token")
	errJWTSignature = errors.New("bad token signature")
	errJWTExpired   = errors.New("token expired")
)

// signHS256 returns claims (any JSON object) as a compact JWS signed with
// HMAC-SHA256 under key, with the simulator's key id.
func signHS256(key []byte, claims any) string {
	b, err := json.Marshal(claims)
	if err != nil {
		panic(err) // the simulator's claims always marshal
	}
	var m jwt.MapClaims
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // keep iat and exp integers, as issuers write them
	if err := dec.Decode(&m); err != nil {
		panic(err)
	}
	t := jwt.NewWithClaims(jwt.SigningMethodHS256, m)
	t.Header["kid"] = "feedkey-simulator"
	s, err := t.SignedString(key)
	if err != nil {
		panic(err)
	}
	return s
}

// verifyHS256 checks token's HMAC-SHA256 signature under key and decodes its
// claims into v. It does not check times.
func verifyHS256(key []byte, token string, v any) error {
	var raw json.RawMessage
	_, err := jwt.NewParser(jwt.WithValidMethods([]string{"HS256"}), jwt.WithoutClaimsValidation()).
		ParseWithClaims(token, &rawClaims{&raw}, func(*jwt.Token) (any, error) { return key, nil })
	switch {
	case errors.Is(err, jwt.ErrTokenSignatureInvalid):
		return errJWTSignature
	case err != nil:
		return errMalformedJWT
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return errMalformedJWT
	}
	return nil
}

// signJWT signs a Package Manager token.
func signJWT(key []byte, c jwtClaims) string { return signHS256(key, c) }

// verifyJWT checks token's signature under key and that it has not expired
// at now, and returns its claims.
func verifyJWT(key []byte, token string, now time.Time) (jwtClaims, error) {
	var c jwtClaims
	if err := verifyHS256(key, token, &c); err != nil {
		return jwtClaims{}, err
	}
	if !now.Before(time.Unix(c.Expiry, 0)) {
		return jwtClaims{}, errJWTExpired
	}
	return c, nil
}

// rawClaims keeps a token's claims as JSON for the caller's own type;
// golang-jwt asks claims for their times only to validate them, which
// verifyHS256 does not do.
type rawClaims struct{ raw *json.RawMessage }

func (r *rawClaims) UnmarshalJSON(b []byte) error {
	*r.raw = append((*r.raw)[:0], b...)
	return nil
}

func (*rawClaims) GetExpirationTime() (*jwt.NumericDate, error) { return nil, nil }
func (*rawClaims) GetIssuedAt() (*jwt.NumericDate, error)       { return nil, nil }
func (*rawClaims) GetNotBefore() (*jwt.NumericDate, error)      { return nil, nil }
func (*rawClaims) GetIssuer() (string, error)                   { return "", nil }
func (*rawClaims) GetSubject() (string, error)                  { return "", nil }
func (*rawClaims) GetAudience() (jwt.ClaimStrings, error)       { return nil, nil }
