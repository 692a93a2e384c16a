package simulator

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
)

// BasicToken returns an [Index.Auth] function accepting requests whose HTTP
// Basic credentials carry the given token as password and, unless user is
// empty, the given user name. Comparisons take constant time.
func BasicToken(user, token string) func(r *http.Request) bool {
	return func(r *http.Request) bool {
		u, p, ok := r.BasicAuth()
		if !ok {
			return false
		}
		userOK := user == "" || equal(u, user)
		return equal(p, token) && userOK
	}
}

// equal reports whether a == b in time independent of their contents and
// lengths.
func equal(a, b string) bool {
	ha, hb := sha256.Sum256([]byte(a)), sha256.Sum256([]byte(b))
	return subtle.ConstantTimeCompare(ha[:], hb[:]) == 1
}
