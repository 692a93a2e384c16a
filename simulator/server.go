package simulator

import (
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"time"
)

// A Server is an HTTPS server listening on a loopback address, presenting a
// certificate issued by its CA. It is like httptest.Server started with
// StartTLS, except that clients trust it through the CA, which they can
// load from a file as real tools do.
type Server struct {
	// URL is the base URL of the server, "https://127.0.0.1:port",
	// without a trailing slash.
	URL string

	// CA is the certificate authority the server's certificate chains to.
	CA *CA

	// Listener is the server's TLS listener.
	Listener net.Listener

	srv *http.Server
}

// NewServer starts a server for h with a new CA.
func NewServer(h http.Handler) (*Server, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	return NewServerWithCA(ca, h)
}

// NewServerWithCA starts a server for h with a certificate issued by ca for
// the loopback addresses and the given hosts. Several servers can share a CA,
// so that a client trusting one file reaches all of them.
func NewServerWithCA(ca *CA, h http.Handler, hosts ...string) (*Server, error) {
	cfg, err := ca.ServerTLSConfig(hosts...)
	if err != nil {
		return nil, err
	}
	cfg.NextProtos = []string{"h2", "http/1.1"}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("simulator: listening on loopback: %w", err)
	}
	s := &Server{
		URL:      "https://" + ln.Addr().String(),
		CA:       ca,
		Listener: tls.NewListener(ln, cfg),
		srv: &http.Server{
			Handler:           h,
			TLSConfig:         cfg,
			ReadHeaderTimeout: 30 * time.Second,
		},
	}
	go s.srv.Serve(s.Listener)
	return s, nil
}

// Addr returns the server's address, "127.0.0.1:port".
func (s *Server) Addr() string { return s.Listener.Addr().String() }

// Client returns an HTTP client that trusts the server's CA and never uses
// a proxy.
func (s *Server) Client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		TLSClientConfig:   &tls.Config{RootCAs: s.CA.CertPool()},
		ForceAttemptHTTP2: true,
	}}
}

// Close shuts the server down, closing its listener and all connections.
func (s *Server) Close() {
	s.srv.Close()
}
