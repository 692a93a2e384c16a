package simulator

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// uploadRequest builds a twine-style upload.
func uploadRequest(t *testing.T, fields map[string]string, filename string, content []byte) *http.Request {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, v := range fields {
		mw.WriteField(k, v)
	}
	if filename != "" {
		fw, _ := mw.CreateFormFile("content", filename)
		fw.Write(content)
	}
	mw.Close()
	r := httptest.NewRequest(http.MethodPost, "/upload/", &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return r
}

func TestUpload(t *testing.T) {
	t.Parallel()
	data := []byte("PK wheel bytes")
	sum := sha256.Sum256(data)
	ok := map[string]string{":action": "file_upload", "name": "Up_Pkg", "version": "1.0", "sha256_digest": hex.EncodeToString(sum[:])}
	with := func(k, v string) map[string]string {
		m := map[string]string{}
		for kk, vv := range ok {
			m[kk] = vv
		}
		m[k] = v
		return m
	}
	ix := &Index{}
	for _, tc := range []struct {
		name     string
		req      *http.Request
		wantCode int
	}{
		{"upload", uploadRequest(t, ok, "up_pkg-1.0-py3-none-any.whl", data), http.StatusOK},
		{"again", uploadRequest(t, ok, "up_pkg-1.0-py3-none-any.whl", data), http.StatusConflict},
		{"wrong action", uploadRequest(t, with(":action", "submit"), "up_pkg-2.0-py3-none-any.whl", data), http.StatusBadRequest},
		{"digest mismatch", uploadRequest(t, with("sha256_digest", strings.Repeat("0", 64)), "up_pkg-3.0-py3-none-any.whl", data), http.StatusBadRequest},
		{"not a distribution", uploadRequest(t, ok, "evil.sh", data), http.StatusBadRequest},
		{"no file", uploadRequest(t, ok, "", nil), http.StatusBadRequest},
		{"get", httptest.NewRequest(http.MethodGet, "/upload/", nil), http.StatusMethodNotAllowed},
	} {
		w := httptest.NewRecorder()
		ix.serveUpload(w, tc.req)
		if w.Code != tc.wantCode {
			t.Errorf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.wantCode)
		}
	}
	// The uploaded file is listed under the normalized name.
	w := httptest.NewRecorder()
	ix.ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/simple/up-pkg/", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "up_pkg-1.0-py3-none-any.whl#sha256="+hex.EncodeToString(sum[:])) {
		t.Errorf("index after upload: %d\n%s", w.Code, w.Body)
	}
}
