package feed

import (
	"errors"
	"strings"
)

// Built-in Azure Repos hosts: git remotes are https://dev.azure.com/{org}/...
// and the legacy https://{org}.visualstudio.com/....
const (
	azureReposHost       = "dev.azure.com"
	azureReposLegacyHost = ".visualstudio.com"
)

// ResolveRepo returns the Azure feed whose organization credential covers a
// git remote on Azure Repos, as git's credential protocol describes it:
// protocol, host (with ":port" when the URL had one) and path (the
// repository path without a leading '/'; git sends it only with
// credential.useHttpPath).
//
// An Azure token is valid for its whole organization (SPEC §2.2), so an org
// that has a feed on pkgs.dev.azure.com or {org}.pkgs.visualstudio.com
// also covers https://dev.azure.com/{org}/... (the org is the first path
// segment, so the path is needed) and https://{org}.visualstudio.com/....
// A feed on a trusted Azure feed host ([Trust].AzureFeedHosts: Azure DevOps
// Server, the simulator) covers that same host and port with the org as the
// first path segment, since such a server serves feeds and repositories
// alike, but only if the host is a trusted token host too
// ([Trust].AzureTokenHosts): git is handed the Entra token, which so far
// went only to those. Hosts match exactly (so evil-dev.azure.com and
// dev.azure.com.evil.com never do), https only, never with userinfo.
//
// This is separate from [Resolve] on purpose: pip and uv must not get
// answers for git remotes, nor git for feed URLs on other hosts.
func ResolveRepo(feeds []Feed, t Trust, protocol, host, path string) (Feed, error) {
	org, trusted, l, err := repoOrg(t, protocol, host, path)
	if err != nil {
		return Feed{}, ErrNoMatch
	}
	var (
		found Feed
		cred  string
	)
	for _, f := range feeds {
		if f.Kind != Azure {
			continue
		}
		s, err := f.scope(t)
		if err != nil || s.org != org {
			continue
		}
		// Microsoft's git hosts go with Microsoft's feed hosts, a trusted
		// host with itself.
		if trusted != (s.legacyHost == "") || trusted && (s.host != l.host || s.port != l.port) {
			continue
		}
		id := f.CredentialID(t)
		switch {
		case cred == "":
			found, cred = f, id
		case cred != id:
			return Feed{}, ErrAmbiguous
		}
	}
	if cred == "" {
		return Feed{}, ErrNoMatch
	}
	return found, nil
}

// repoOrg finds the organization a git remote names, and whether its host
// is a trusted one rather than Microsoft's.
func repoOrg(t Trust, protocol, host, path string) (org string, trusted bool, l location, err error) {
	if !strings.EqualFold(protocol, "https") {
		return "", false, l, errors.New("not https")
	}
	// The host is host[:port] and nothing else: no userinfo that could
	// make the URL below mean another host, no path, query or fragment.
	if host == "" || strings.ContainsAny(host, "@/\\?# \t") || strings.ContainsAny(path, "?#") {
		return "", false, l, errors.New("not a host")
	}
	l, err = parseLocation("https://" + host + "/" + path)
	if err != nil {
		return "", false, l, err
	}
	switch {
	case l.host == azureReposHost && l.port == "443",
		hostIn(l.host, l.port, t.AzureFeedHosts) && hostIn(l.host, l.port, t.AzureTokenHosts):
		if len(l.path) == 0 {
			return "", false, l, errors.New("no organization in the path (set credential.useHttpPath)")
		}
		return strings.ToLower(l.path[0]), l.host != azureReposHost, l, nil
	case l.port == "443":
		org, ok := strings.CutSuffix(l.host, azureReposLegacyHost)
		if ok && org != "" && !strings.Contains(org, ".") {
			return org, false, l, nil
		}
	}
	return "", false, l, errors.New("not an Azure Repos host")
}
