package simulator

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"strings"
)

// maxUpload bounds an upload's body: the simulator keeps files in memory.
const maxUpload = 32 << 20

// serveUpload accepts a file as twine sends it to PyPI's legacy upload API
// (a multipart POST with ":action" = "file_upload", "name", "version",
// "sha256_digest" and the file in "content") and adds it to the index, where
// pip finds it next. The caller has checked authorization.
func (ix *Index) serveUpload(w http.ResponseWriter, r *http.Request) {
	ix.Recorder.Record(r)
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "405 Method Not Allowed", http.StatusMethodNotAllowed)
		return
	}
	name, version, filename, data, err := readUpload(w, r)
	if err != nil {
		http.Error(w, "400 "+err.Error(), http.StatusBadRequest)
		return
	}
	sum := sha256.Sum256(data)
	norm := NormalizeName(name)
	ix.mu.Lock()
	defer ix.mu.Unlock()
	if ix.projects == nil {
		ix.projects = make(map[string]*project)
	}
	p := ix.projects[norm]
	if p == nil {
		p = &project{name: name, files: make(map[string]*file)}
		ix.projects[norm] = p
	}
	if _, dup := p.files[filename]; dup {
		// PyPI and Azure Artifacts refuse to replace a published file.
		http.Error(w, "409 File already exists: "+filename, http.StatusConflict)
		return
	}
	p.files[filename] = &file{version: version, data: data, sha256: hex.EncodeToString(sum[:])}
	w.WriteHeader(http.StatusOK)
}

// readUpload reads and checks the form of an upload.
func readUpload(w http.ResponseWriter, r *http.Request) (name, version, filename string, data []byte, err error) {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	if err := r.ParseMultipartForm(maxUpload); err != nil {
		return "", "", "", nil, fmt.Errorf("reading the upload form: %w", err)
	}
	if a := r.FormValue(":action"); a != "file_upload" {
		return "", "", "", nil, fmt.Errorf(":action is %q, not file_upload", a)
	}
	name, version = r.FormValue("name"), r.FormValue("version")
	if name == "" || version == "" {
		return "", "", "", nil, errors.New("name and version are required")
	}
	f, hdr, err := r.FormFile("content")
	if err != nil {
		return "", "", "", nil, fmt.Errorf("content: %w", err)
	}
	defer f.Close()
	filename = path.Base(hdr.Filename)
	if !strings.HasSuffix(filename, ".whl") && !strings.HasSuffix(filename, ".tar.gz") {
		return "", "", "", nil, fmt.Errorf("%s is neither a wheel nor an sdist", filename)
	}
	if data, err = io.ReadAll(f); err != nil {
		return "", "", "", nil, fmt.Errorf("content: %w", err)
	}
	if want := r.FormValue("sha256_digest"); want != "" {
		if got := sha256.Sum256(data); !strings.EqualFold(want, hex.EncodeToString(got[:])) {
			return "", "", "", nil, errors.New("sha256_digest does not match the content")
		}
	}
	return name, version, filename, data, nil
}
