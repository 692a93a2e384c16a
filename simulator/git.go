package simulator

import (
	"net/http"
	"net/http/cgi"
	"os"
	"path/filepath"
	"strings"
)

// GitHTTPBackend is where Debian's git package installs the smart HTTP
// server that [DevOps] runs for Azure Repos.
const GitHTTPBackend = "/usr/lib/git-core/git-http-backend"

const devopsGitRoot = "_git"

// A devopsRepo is an Azure Repos repository: a bare repository on disk.
type devopsRepo struct {
	project, name string
	dir           string
}

// AddRepo serves the bare git repository in dir (see simtest.BareRepo) as
// the Azure Repos repository https://{host}/{org}/{project}/_git/{name},
// for clone, fetch and push over git's smart HTTP protocol, run by Debian's
// git http-backend (CGI). Like Azure DevOps, it takes HTTP Basic with any
// user name and, as password, an Entra access token of a user of the org's
// tenant, or a session token or PAT of the org with a vso.code scope;
// without one it answers 401 with the same challenges as the feeds. Pushes
// are enabled (http.receivepack). It panics if the organization is unknown.
func (d *DevOps) AddRepo(org, project, name, dir string) {
	d.lock()
	defer d.mu.Unlock()
	o := d.orgs[strings.ToLower(org)]
	if o == nil {
		panic("simulator: AddRepo: unknown organization " + org)
	}
	o.repos = append(o.repos, &devopsRepo{project: project, name: name, dir: dir})
}

// isGitPath reports whether a request's path segments are under
// /{org}/{project}/_git/{repo}.
func isGitPath(segs []string) bool {
	return len(segs) >= 4 && segs[2] == devopsGitRoot
}

// codeScope reports whether a token scope allows git.
func codeScope(scope string) bool {
	for _, s := range strings.Fields(scope) {
		if strings.HasPrefix(s, "vso.code") || s == "app_token" {
			return true
		}
	}
	return false
}

// serveGit runs git http-backend for an authenticated request of a
// repository.
func (d *DevOps) serveGit(w http.ResponseWriter, r *http.Request, o *devopsOrg, segs []string, p devopsPrincipal) {
	for _, s := range segs {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, `\`) {
			writeVSSError(w, newVSSError(http.StatusBadRequest, "InvalidPathException", "The path %s is not valid.", r.URL.Path))
			return
		}
	}
	if p.kind != "entra" && !codeScope(p.scope) {
		writeVSSError(w, newVSSError(http.StatusForbidden, "InvalidAccessException",
			"Access denied. The token's scope '%s' does not include vso.code.", p.scope))
		return
	}
	d.lock()
	var repo *devopsRepo
	for _, rp := range o.repos {
		if strings.EqualFold(rp.project, segs[1]) && strings.EqualFold(rp.name, segs[3]) {
			repo = rp
		}
	}
	d.mu.Unlock()
	if repo == nil {
		writeVSSError(w, newVSSError(http.StatusNotFound, "GitRepositoryNotFoundException",
			"TF401019: The Git repository with name or identifier %s does not exist or you do not have permissions for the operation you are attempting.", segs[3]))
		return
	}
	r2 := r.Clone(r.Context())
	r2.URL.RawPath = ""
	r2.URL.Path = "/" + filepath.Base(repo.dir) + "/" + strings.Join(segs[4:], "/")
	h := &cgi.Handler{
		Path: GitHTTPBackend,
		Root: "/",
		Dir:  filepath.Dir(repo.dir),
		Env: []string{
			"GIT_PROJECT_ROOT=" + filepath.Dir(repo.dir),
			"GIT_HTTP_EXPORT_ALL=1",
			"GIT_CONFIG_NOSYSTEM=1",
			"HOME=" + filepath.Dir(repo.dir),
			"REMOTE_USER=" + p.username,
		},
		Stderr: os.Stderr,
	}
	h.ServeHTTP(w, r2)
}
