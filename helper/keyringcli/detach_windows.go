//go:build windows

package keyringcli

import "syscall"

// detached runs a child in a process group of its own, with no console.
func detached() *syscall.SysProcAttr {
	const createNewProcessGroup, detachedProcess = 0x00000200, 0x00000008
	return &syscall.SysProcAttr{CreationFlags: createNewProcessGroup | detachedProcess}
}
