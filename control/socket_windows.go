package control

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"

	"github.com/Microsoft/go-winio"
	"golang.org/x/sys/windows"
)

func defaultDir() (string, error) {
	d, err := os.UserCacheDir() // %LocalAppData%
	if err != nil {
		return "", fmt.Errorf("finding the socket directory: %w", err)
	}
	return filepath.Join(d, "feedkey"), nil
}

// prepareDir has nothing to create: the channel is a named pipe (see
// pipeName), which lives in the pipe namespace, not in the directory. A
// pipe works on every Windows, unlike AF_UNIX (Windows 10 1803 and later,
// not Wine).
func prepareDir(string) error { return nil }

// checkDir has nothing to check on Windows: the pipe's own security
// descriptor admits only this user (see listen).
func checkDir(string) error { return nil }

// pipePrefix starts every local named pipe name.
const pipePrefix = `\\.\pipe\`

// pipeName is the named pipe that stands for the control path: path itself
// if it names a pipe, else one derived from it. Pipe names are one
// namespace for the whole machine; the default path lies in the user's
// %LocalAppData%, so each user gets their own pipe, and FEEDKEY_SOCKET (a
// second tray, feedkey demo) gets another.
func pipeName(path string) string {
	if strings.HasPrefix(path, pipePrefix) {
		return path
	}
	sum := sha256.Sum256([]byte(strings.ToLower(filepath.Clean(path))))
	return pipePrefix + "feedkey-" + hex.EncodeToString(sum[:12])
}

// pipeSDDL is the security descriptor of the control pipe: owned by sid
// (said explicitly, so that the client's owner check does not depend on
// the token's default owner, an Administrators group when elevated) with a
// protected DACL (nothing inherited) that gives full access to sid alone,
// the Windows equivalent of a 0600 socket in a 0700 directory with a
// peer-uid check. Administrators and SYSTEM are not listed; they can take
// ownership anyway.
func pipeSDDL(sid string) string { return "O:" + sid + "D:P(A;;GA;;;" + sid + ")" }

// currentUserSID is the user SID of this process's token.
func currentUserSID() (string, error) {
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return "", fmt.Errorf("reading the process token's user: %w", err)
	}
	return u.User.Sid.String(), nil
}

// listen creates the control pipe for path, open to the current user only.
// A pipe of that name that another process created first (a second tray, or
// someone squatting the name) makes it fail: go-winio creates the first
// instance with FILE_FLAG_FIRST_PIPE_INSTANCE.
func listen(path string) (net.Listener, error) {
	sid, err := currentUserSID()
	if err != nil {
		return nil, err
	}
	ln, err := winio.ListenPipe(pipeName(path), &winio.PipeConfig{SecurityDescriptor: pipeSDDL(sid)})
	if err != nil {
		return nil, fmt.Errorf("listening on the control pipe %s: %w", pipeName(path), err)
	}
	return ln, nil
}

// dialSocket connects to the control pipe for path (network is ignored) and
// checks who created it: pipe names are one namespace for the machine, so
// another user could create ours first; the owner check is the Windows side
// of checkDir.
func dialSocket(ctx context.Context, _, path string) (net.Conn, error) {
	name := pipeName(path)
	conn, err := winio.DialPipeContext(ctx, name)
	if err != nil {
		return nil, err
	}
	if err := checkOwner(conn, name); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// checkOwner accepts a pipe owned by this user (or by Administrators or
// SYSTEM, who own what an elevated tray creates and could read our secrets
// anyway).
func checkOwner(conn net.Conn, name string) error {
	f, ok := conn.(interface{ Fd() uintptr })
	if !ok {
		return fmt.Errorf("control pipe %s: no handle to check its owner", name)
	}
	sd, err := windows.GetSecurityInfo(windows.Handle(f.Fd()), windows.SE_KERNEL_OBJECT, windows.OWNER_SECURITY_INFORMATION)
	if err != nil {
		return fmt.Errorf("control pipe %s: reading its owner: %w", name, err)
	}
	owner, _, err := sd.Owner()
	if err != nil || owner == nil {
		return fmt.Errorf("control pipe %s has no owner (%v)", name, err)
	}
	u, err := windows.GetCurrentProcessToken().GetTokenUser()
	if err != nil {
		return fmt.Errorf("reading the process token's user: %w", err)
	}
	if !trustedOwner(owner, u.User.Sid) {
		return fmt.Errorf("control pipe %s belongs to %s, not to you", name, owner)
	}
	return nil
}

// trustedOwner reports whether a pipe owned by owner may be the tray of
// user.
func trustedOwner(owner, user *windows.SID) bool {
	return owner.Equals(user) || owner.IsWellKnown(windows.WinBuiltinAdministratorsSid) ||
		owner.IsWellKnown(windows.WinLocalSystemSid)
}
