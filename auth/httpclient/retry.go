package httpclient

import (
	"net/http"
	"strconv"
	"time"
)

// retrying retries answers that say "later" — 429 and 5xx — a few times,
// waiting as Retry-After asks (bounded) or with exponential backoff (SPEC §9).
// A request whose body cannot be replayed is not tried again.
type retrying struct {
	base http.RoundTripper
}

const maxAttempts = 4

func (t retrying) RoundTrip(req *http.Request) (*http.Response, error) {
	backoff := 500 * time.Millisecond
	for attempt := 1; ; attempt++ {
		resp, err := t.base.RoundTrip(req)
		if err != nil || attempt == maxAttempts || !(resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500) {
			return resp, err
		}
		if req.Body != nil && req.GetBody == nil {
			return resp, nil // cannot replay the body
		}
		wait := backoff
		if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s >= 0 {
			wait = min(time.Duration(s)*time.Second, 30*time.Second)
		}
		resp.Body.Close()
		select {
		case <-req.Context().Done():
			return nil, req.Context().Err()
		case <-time.After(wait):
		}
		backoff *= 2
		if req.GetBody != nil {
			body, err := req.GetBody()
			if err != nil {
				return nil, err
			}
			req = req.Clone(req.Context())
			req.Body = body
		}
	}
}
