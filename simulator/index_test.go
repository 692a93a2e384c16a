package simulator_test

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/simulator"
)

// demoWheels are the wheels of the demo project.
var demoWheels = []simulator.Wheel{
	{Name: "demo-pkg", Version: "0.9", Files: map[string]string{"demo_pkg/__init__.py": "VALUE = 9\n"}},
	{Name: "demo-pkg", Version: "1.0", Files: map[string]string{"demo_pkg/__init__.py": "VALUE = 42\n"}},
}

// startIndex serves an index of the demo wheels, plus other-pkg, requiring
// the token "tok".
func startIndex(t *testing.T, ix *simulator.Index) *simulator.Server {
	t.Helper()
	if ix.Auth == nil {
		ix.Auth = simulator.BasicToken("", "tok")
	}
	if ix.Recorder == nil {
		ix.Recorder = new(simulator.Recorder)
	}
	wheels := append(slices.Clone(demoWheels), simulator.Wheel{Name: "Other.Pkg", Version: "2.0", Files: map[string]string{"other/__init__.py": ""}})
	for _, w := range wheels {
		if err := ix.Add(w); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := simulator.NewServer(ix)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(srv.Close)
	return srv
}

// get fetches path from srv without following redirects, with the Basic
// credentials user:pass unless user and pass are empty.
func get(t *testing.T, srv *simulator.Server, path, user, pass string) (*http.Response, string) {
	t.Helper()
	c := srv.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequest(http.MethodGet, srv.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || pass != "" {
		req.SetBasicAuth(user, pass)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(body)
}

func TestIndexRoutes(t *testing.T) {
	srv := startIndex(t, &simulator.Index{})
	tests := []struct {
		path       string
		user, pass string
		status     int
		location   string // for redirects
		ctype      string // prefix of Content-Type
		contains   []string
	}{
		{path: "/simple/", status: 401},
		{path: "/simple/demo-pkg/", status: 401},
		{path: "/files/demo_pkg-1.0-py3-none-any.whl", status: 401},
		{path: "/simple/", user: "u", pass: "wrong", status: 401},
		{path: "/simple/", pass: "tok", status: 200, ctype: "text/html",
			contains: []string{`<!DOCTYPE html>`, `<meta name="pypi:repository-version" content="1.0">`,
				`<a href="/simple/demo-pkg/">demo-pkg</a>`, `<a href="/simple/other-pkg/">Other.Pkg</a>`}},
		{path: "/simple/demo-pkg/", user: "u", pass: "tok", status: 200, ctype: "text/html",
			contains: []string{`<meta name="pypi:repository-version" content="1.0">`,
				`href="/files/demo_pkg-1.0-py3-none-any.whl#sha256=`, `href="/files/demo_pkg-0.9-py3-none-any.whl#sha256=`}},
		{path: "/simple", pass: "tok", status: 301, location: "/simple/"},
		{path: "/simple/demo-pkg", pass: "tok", status: 301, location: "/simple/demo-pkg/"},
		{path: "/simple/Demo_Pkg/", pass: "tok", status: 301, location: "/simple/demo-pkg/"},
		{path: "/simple/demo.pkg?x=1", pass: "tok", status: 301, location: "/simple/demo-pkg/?x=1"},
		{path: "/simple/Other.Pkg/", pass: "tok", status: 301, location: "/simple/other-pkg/"},
		{path: "/simple/no-such-pkg/", pass: "tok", status: 404},
		{path: "/simple/demo-pkg/extra/", pass: "tok", status: 404},
		{path: "/files/demo_pkg-1.0-py3-none-any.whl", pass: "tok", status: 200, ctype: "application/octet-stream"},
		{path: "/files/demo_pkg-3.0-py3-none-any.whl", pass: "tok", status: 404},
		{path: "/elsewhere", pass: "tok", status: 404},
	}
	for _, tt := range tests {
		t.Run(tt.path+"/"+tt.user+":"+tt.pass, func(t *testing.T) {
			resp, body := get(t, srv, tt.path, tt.user, tt.pass)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d\n%s", resp.StatusCode, tt.status, body)
			}
			if tt.status == 401 {
				if got, want := resp.Header.Get("WWW-Authenticate"), `Basic realm="simulator"`; got != want {
					t.Errorf("WWW-Authenticate = %q, want %q", got, want)
				}
			}
			if got := resp.Header.Get("Location"); got != tt.location {
				t.Errorf("Location = %q, want %q", got, tt.location)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.ctype) {
				t.Errorf("Content-Type = %q, want %q", ct, tt.ctype)
			}
			for _, s := range tt.contains {
				if !strings.Contains(body, s) {
					t.Errorf("body lacks %q:\n%s", s, body)
				}
			}
		})
	}
}

var hrefRE = regexp.MustCompile(`<a href="([^"#]+)#sha256=([0-9a-f]{64})">([^<]+)</a>`)

func TestIndexFileLinks(t *testing.T) {
	tests := []struct {
		name string
		ix   *simulator.Index
		want []string // hrefs, without fragment
	}{
		{"default", &simulator.Index{}, []string{
			"/files/demo_pkg-0.9-py3-none-any.whl",
			"/files/demo_pkg-1.0-py3-none-any.whl",
		}},
		{"prefixes", &simulator.Index{Prefix: "/org/_packaging/feed/pypi/simple/", FilesPrefix: "/dl/"}, []string{
			"/dl/demo_pkg-0.9-py3-none-any.whl",
			"/dl/demo_pkg-1.0-py3-none-any.whl",
		}},
		{"FilePath", &simulator.Index{
			Prefix: "/org/_packaging/feed/pypi/simple/",
			FilePath: func(project, version, filename string) string {
				return "/org/_packaging/feed/pypi/download/" + project + "/" + version + "/" + filename
			},
		}, []string{
			"/org/_packaging/feed/pypi/download/demo-pkg/0.9/demo_pkg-0.9-py3-none-any.whl",
			"/org/_packaging/feed/pypi/download/demo-pkg/1.0/demo_pkg-1.0-py3-none-any.whl",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := startIndex(t, tt.ix)
			prefix := tt.ix.Prefix
			if prefix == "" {
				prefix = simulator.DefaultPrefix
			}
			resp, page := get(t, srv, prefix+"demo-pkg/", "", "tok")
			if resp.StatusCode != 200 {
				t.Fatalf("project page: status %d", resp.StatusCode)
			}
			links := hrefRE.FindAllStringSubmatch(page, -1)
			if len(links) != len(tt.want) {
				t.Fatalf("project page has %d links, want %d:\n%s", len(links), len(tt.want), page)
			}
			for i, l := range links {
				href, hash, text := l[1], l[2], l[3]
				if href != tt.want[i] {
					t.Errorf("link %d = %q, want %q", i, href, tt.want[i])
				}
				if !strings.HasSuffix(href, "/"+text) {
					t.Errorf("link %q has text %q", href, text)
				}
				resp, data := get(t, srv, href, "", "tok")
				if resp.StatusCode != 200 {
					t.Fatalf("GET %s: status %d", href, resp.StatusCode)
				}
				sum := sha256.Sum256([]byte(data))
				if got := hex.EncodeToString(sum[:]); got != hash {
					t.Errorf("sha256 of %s = %s, link says %s", href, got, hash)
				}
				checkWheel(t, []byte(data))
			}
		})
	}
}

func TestIndexChallenge(t *testing.T) {
	srv := startIndex(t, &simulator.Index{
		Challenge: func(w http.ResponseWriter) {
			w.Header().Set("WWW-Authenticate", `Bearer authorization_uri="https://login.example.test/"`)
			w.Header().Set("X-VSS-Test", "1")
		},
	})
	resp, _ := get(t, srv, "/simple/", "", "")
	if resp.StatusCode != 401 {
		t.Fatalf("status = %d, want 401", resp.StatusCode)
	}
	if got := resp.Header.Values("WWW-Authenticate"); len(got) != 1 || !strings.HasPrefix(got[0], "Bearer ") {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	if resp.Header.Get("X-VSS-Test") != "1" {
		t.Error("Challenge headers missing")
	}
}

func TestIndexRecords(t *testing.T) {
	ix := &simulator.Index{}
	srv := startIndex(t, ix)
	get(t, srv, "/simple/demo-pkg/?q=1", "", "")
	get(t, srv, "/simple/demo-pkg/", "alice", "tok")
	reqs := ix.Recorder.Requests()
	if len(reqs) != 2 {
		t.Fatalf("recorded %d requests, want 2", len(reqs))
	}
	host := strings.TrimPrefix(srv.URL, "https://")
	for i, r := range reqs {
		if r.Method != "GET" || r.Host != host || r.Path != "/simple/demo-pkg/" {
			t.Errorf("request %d = %s %s %s", i, r.Method, r.Host, r.Path)
		}
	}
	if reqs[0].Query != "q=1" || reqs[0].Header.Get("Authorization") != "" {
		t.Errorf("request 0: query %q, Authorization %q", reqs[0].Query, reqs[0].Header.Get("Authorization"))
	}
	req, _ := http.NewRequest("GET", "/", nil)
	req.SetBasicAuth("alice", "tok")
	if got, want := reqs[1].Header.Get("Authorization"), req.Header.Get("Authorization"); got != want {
		t.Errorf("request 1: Authorization %q, want %q", got, want)
	}
	ix.Recorder.Reset()
	if n := len(ix.Recorder.Requests()); n != 0 {
		t.Errorf("after Reset: %d requests", n)
	}
}
