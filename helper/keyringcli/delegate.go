package keyringcli

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"unicode/utf8"

	"github.com/feedkey/feedkey/helper/pykeyring"
)

// Delegator hands a whole command line to another helper (inside WSL, the
// Windows feedkey's), with stdin passed on, and returns its exit code and
// its answer (Unix line ends).
type Delegator func(ctx context.Context, argv []string, stdin io.Reader) (stdout []byte, code int, err error)

// delegate runs a parsed command line through env.Delegate. The answer is
// another program's, so a `get` answer is checked for the shape pip reads
// before it is passed on: one line of text in password mode, two in creds
// mode, a JSON object with string fields in JSON output.
func (h *handler) delegate(ctx context.Context, argv []string) error {
	out, code, err := h.env.Delegate(ctx, argv, h.env.Stdin)
	if err != nil {
		return err
	}
	if code == 0 && h.args.Operation == "get" {
		if err := checkAnswer(out, h.args); err != nil {
			return fmt.Errorf("the Windows feedkey's answer: %w", err)
		}
	}
	if _, err := h.env.Stdout.Write(out); err != nil {
		return err
	}
	if code != 0 {
		return errExit(code)
	}
	return nil
}

// checkAnswer checks a `get` answer's shape.
func checkAnswer(out []byte, a pykeyring.Args) error {
	if !utf8.Valid(out) || bytes.IndexByte(out, 0) >= 0 {
		return fmt.Errorf("not text")
	}
	if a.Output == "json" {
		var v map[string]any
		if err := json.Unmarshal(out, &v); err != nil {
			return fmt.Errorf("not a JSON object: %w", err)
		}
		for k, x := range v {
			if _, ok := x.(string); !ok && x != nil {
				return fmt.Errorf("field %q is not a string", k)
			}
		}
		return nil
	}
	lines := 1
	if a.Mode == "creds" {
		lines = 2
	}
	if !bytes.HasSuffix(out, []byte("\n")) || bytes.Count(out, []byte("\n")) != lines || len(bytes.TrimSpace(out)) == 0 {
		return fmt.Errorf("not %d line(s) of text", lines)
	}
	return nil
}
