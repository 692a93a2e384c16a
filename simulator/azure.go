package simulator

import "strings"

// Azure runs a simulated Microsoft Entra ID and Azure DevOps on two
// loopback TLS servers sharing one CA, so that, as in reality, the
// authority's host differs from the feeds' host. DevOps trusts Entra and
// its challenges name EntraURL as the authority host and DevOpsURL/{org}/
// as the authorization endpoint (unless the DevOps knobs say otherwise).
type Azure struct {
	Entra  *Entra
	DevOps *DevOps

	EntraServer  *Server
	DevOpsServer *Server

	// EntraURL is the authority host, "https://127.0.0.1:port"; an
	// authority is EntraURL + "/" + tenant.
	EntraURL string
	// DevOpsURL is the base of the feeds and token APIs,
	// "https://127.0.0.1:port".
	DevOpsURL string

	// CA issued both servers' certificates.
	CA *CA
}

// NewAzure starts a new, empty Entra ID and Azure DevOps; see [StartAzure].
func NewAzure() (*Azure, error) { return StartAzure(new(Entra), new(DevOps)) }

// StartAzure serves e and d, whose knobs the caller may have set, on two
// loopback servers with a new CA. It sets d.Entra to e and, when empty,
// d.AuthorityURL to the Entra server's URL.
func StartAzure(e *Entra, d *DevOps) (*Azure, error) {
	ca, err := NewCA()
	if err != nil {
		return nil, err
	}
	es, err := NewServerWithCA(ca, e)
	if err != nil {
		return nil, err
	}
	d.Configure(func(d *DevOps) {
		d.Entra = e
		if d.AuthorityURL == "" {
			d.AuthorityURL = es.URL
		}
	})
	ds, err := NewServerWithCA(ca, d)
	if err != nil {
		es.Close()
		return nil, err
	}
	return &Azure{
		Entra:        e,
		DevOps:       d,
		EntraServer:  es,
		DevOpsServer: ds,
		EntraURL:     es.URL,
		DevOpsURL:    ds.URL,
		CA:           ca,
	}, nil
}

// Authority returns the Entra authority URL of a tenant (a GUID, a domain,
// "organizations", ...).
func (a *Azure) Authority(tenant string) string { return a.EntraURL + "/" + tenant }

// FeedURL returns the simple index URL of a feed, project-scoped unless
// project is empty.
func (a *Azure) FeedURL(org, project, feed string) string {
	parts := []string{a.DevOpsURL, org}
	if project != "" {
		parts = append(parts, project)
	}
	return strings.Join(append(parts, devopsFeedRoot, feed, "pypi", "simple"), "/") + "/"
}

// Close shuts both servers down.
func (a *Azure) Close() {
	a.EntraServer.Close()
	a.DevOpsServer.Close()
}
