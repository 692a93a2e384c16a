//go:build !linux

package store

import (
	"context"
	"errors"
)

// The pipeline reads the Secret Service, which only Linux has.

func pipelinedService(context.Context, string) ([]string, error) { return nil, errors.ErrUnsupported }

func pipelinedAutoService(context.Context, string) ([]string, bool, error) {
	return nil, false, errors.ErrUnsupported
}

func pipelinedPlain(context.Context, string, string) (string, bool, error) {
	return "", false, errors.ErrUnsupported
}

func secretServiceAvailable(Keychain) bool { return false }
