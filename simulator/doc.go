// Package simulator serves, on loopback over TLS, the remote services feedkey
// talks to, so that tests can exercise feedkey and real clients such as pip
// without touching the network.
//
// The package is used from tests the way net/http/httptest is: build a
// handler, start a [Server] for it and point the client at [Server.URL].
// Every server presents a certificate issued by a [CA] created in memory;
// tests write that CA to a file with [CA.WriteFile] and hand the file to the
// client (for pip: PIP_CERT, REQUESTS_CA_BUNDLE and SSL_CERT_FILE).
//
// The building blocks are:
//
//   - [CA], a throwaway certificate authority issuing loopback certificates;
//   - [Wheel], which builds real, installable wheel files in memory;
//   - [Index], a PEP 503 "simple" package index serving such wheels;
//   - [Recorder], which records the requests any simulated service receives;
//   - [PPM], a Posit Package Manager: device flow with PKCE, identity-token
//     exchange and an authenticated index of such wheels.
package simulator
