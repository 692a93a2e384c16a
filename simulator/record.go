package simulator

import (
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"
)

// A Request is what a [Recorder] keeps of one HTTP request.
type Request struct {
	Time   time.Time
	Method string
	Host   string      // the Host header, e.g. "127.0.0.1:40123"
	Path   string      // the URL path, e.g. "/simple/demo-pkg/"
	Query  string      // the raw query, without "?"
	Header http.Header // a copy of all headers, Authorization included
	Form   url.Values  // a copy of the form-encoded body, if the service read one
}

// A Recorder records requests, so that tests can assert which requests, and
// which credentials, reached which simulated service. It is safe for
// concurrent use. The zero value is ready to use; a nil *Recorder records
// nothing.
type Recorder struct {
	mu   sync.Mutex
	reqs []Request
}

// Record stores a copy of r's method, host, path, query and headers.
// It does not read the body.
func (rec *Recorder) Record(r *http.Request) { rec.RecordForm(r, nil) }

// RecordForm is like [Recorder.Record] and also stores a copy of form, the
// already parsed form-encoded body of r.
func (rec *Recorder) RecordForm(r *http.Request, form url.Values) {
	if rec == nil {
		return
	}
	req := Request{
		Time:   time.Now(),
		Method: r.Method,
		Host:   r.Host,
		Path:   r.URL.Path,
		Query:  r.URL.RawQuery,
		Header: r.Header.Clone(),
		Form:   cloneValues(form),
	}
	rec.mu.Lock()
	rec.reqs = append(rec.reqs, req)
	rec.mu.Unlock()
}

// Requests returns the recorded requests, oldest first. The caller owns the
// returned slice.
func (rec *Recorder) Requests() []Request {
	if rec == nil {
		return nil
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	out := make([]Request, len(rec.reqs))
	for i, req := range rec.reqs {
		req.Header = req.Header.Clone()
		req.Form = cloneValues(req.Form)
		out[i] = req
	}
	return out
}

// Reset discards the recorded requests.
func (rec *Recorder) Reset() {
	if rec == nil {
		return
	}
	rec.mu.Lock()
	rec.reqs = nil
	rec.mu.Unlock()
}

// Wrap returns a handler that records each request and then passes it to h.
func (rec *Recorder) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec.Record(r)
		h.ServeHTTP(w, r)
	})
}

// cloneValues returns a deep copy of v, nil if v is nil.
func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	out := make(url.Values, len(v))
	for k, vs := range v {
		out[k] = slices.Clone(vs)
	}
	return out
}
