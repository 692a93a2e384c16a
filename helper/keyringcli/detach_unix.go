//go:build unix

package keyringcli

import "syscall"

// detached runs a child in a session of its own, so that a tool killing the
// helper's process group does not kill a refresh in progress.
func detached() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setsid: true} }
