package posit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"

	"github.com/feedkey/feedkey/auth/httpclient"
	"github.com/feedkey/feedkey/auth/untrusted"
)

// maxBody bounds every answer read from a server.
const maxBody = 1 << 20

// Error is an error answer from the server (RFC 6749 §5.2 shape), kept typed
// so callers can switch on Code. Error() leaves the server's own text out
// of logs except the short description.
type Error struct {
	Endpoint    string // e.g. "device_access"
	Status      int    // HTTP status
	Code        string // "authorization_pending", "access_denied", ...
	Description string
}

func (e *Error) Error() string {
	switch {
	case e.Code != "" && e.Description != "":
		return fmt.Sprintf("%s: %s (%s)", e.Endpoint, e.Code, untrusted.OneLine(e.Description, 200))
	case e.Code != "":
		return fmt.Sprintf("%s: %s", e.Endpoint, e.Code)
	}
	return fmt.Sprintf("%s: HTTP %d", e.Endpoint, e.Status)
}

// Temporary reports whether trying again later may succeed.
func (e *Error) Temporary() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// postForm POSTs form to addr+path and decodes a 200 JSON answer into out.
// Any other answer becomes an *Error.
func (c *Client) postForm(ctx context.Context, addr, endpoint string, form url.Values, out any) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, addr+"/__api__/"+endpoint, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := c.http().Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", endpoint, httpclient.Clean(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return fmt.Errorf("%s: read answer: %w", endpoint, err)
	}
	if resp.StatusCode != http.StatusOK {
		e := &Error{Endpoint: endpoint, Status: resp.StatusCode}
		var wire struct {
			Error       string `json:"error"`
			Description string `json:"error_description"`
		}
		if isJSON(resp.Header.Get("Content-Type")) && json.Unmarshal(body, &wire) == nil {
			e.Code, e.Description = wire.Error, wire.Description
		}
		return e
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("%s: malformed answer from the server: %w", endpoint, errors.Unwrap(err))
	}
	return nil
}

func isJSON(contentType string) bool {
	mt, _, _ := mime.ParseMediaType(contentType)
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}
