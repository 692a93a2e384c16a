package simulator_test

import (
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/feedkey/feedkey/simulator"
)

func TestRecorder(t *testing.T) {
	var rec simulator.Recorder
	h := rec.Wrap(http.NotFoundHandler())
	var wg sync.WaitGroup
	for range 50 {
		wg.Go(func() {
			r := httptest.NewRequest("POST", "https://login.example.test/tenant/oauth2/v2.0/token?a=b", nil)
			r.Header.Set("Authorization", "Bearer abc")
			h.ServeHTTP(httptest.NewRecorder(), r)
			rec.Requests()
		})
	}
	wg.Wait()
	reqs := rec.Requests()
	if len(reqs) != 50 {
		t.Fatalf("recorded %d requests, want 50", len(reqs))
	}
	r := reqs[0]
	if r.Method != "POST" || r.Host != "login.example.test" || r.Path != "/tenant/oauth2/v2.0/token" ||
		r.Query != "a=b" || r.Header.Get("Authorization") != "Bearer abc" {
		t.Errorf("recorded %+v", r)
	}
	reqs[0].Header.Set("Authorization", "changed")
	if rec.Requests()[0].Header.Get("Authorization") != "Bearer abc" {
		t.Error("Requests shares headers with the recorder")
	}
	rec.Reset()
	if n := len(rec.Requests()); n != 0 {
		t.Errorf("after Reset: %d requests", n)
	}

	var nilRec *simulator.Recorder
	nilRec.Record(httptest.NewRequest("GET", "/", nil))
	if nilRec.Requests() != nil {
		t.Error("nil Recorder returned requests")
	}
}

func TestBasicToken(t *testing.T) {
	tests := []struct {
		user, token   string // accepted
		auth          bool   // whether the request has Basic credentials
		gotU, gotPass string
		want          bool
	}{
		{"", "tok", true, "anyone", "tok", true},
		{"", "tok", true, "", "tok", true},
		{"", "tok", true, "anyone", "tok2", false},
		{"", "tok", true, "anyone", "", false},
		{"", "tok", false, "", "", false},
		{"bob", "tok", true, "bob", "tok", true},
		{"bob", "tok", true, "alice", "tok", false},
		{"bob", "tok", true, "bob", "to", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "/", nil)
		if tt.auth {
			r.SetBasicAuth(tt.gotU, tt.gotPass)
		}
		if got := simulator.BasicToken(tt.user, tt.token)(r); got != tt.want {
			t.Errorf("BasicToken(%q, %q) on %q:%q (auth %v) = %v, want %v",
				tt.user, tt.token, tt.gotU, tt.gotPass, tt.auth, got, tt.want)
		}
	}
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("Authorization", "Bearer tok")
	if simulator.BasicToken("", "tok")(r) {
		t.Error("BasicToken accepted a bearer token")
	}
}
