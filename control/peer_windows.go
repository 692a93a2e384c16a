package control

import "net"

// checkPeer accepts every peer: Windows gives AF_UNIX sockets no peer
// credentials. The socket lives in the user's %LocalAppData%, whose ACL
// keeps other (non-admin) users from reaching the socket file at all.
func checkPeer(net.Conn) error { return nil }
