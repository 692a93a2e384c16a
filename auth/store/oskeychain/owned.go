package oskeychain

import (
	"strings"

	"github.com/feedkey/feedkey/auth/store"
)

// owned reports whether service is one of feedkey's own names.
func owned(service string) bool { return strings.HasPrefix(service, store.ServicePrefix) }
