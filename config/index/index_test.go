package index

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/feedkey/feedkey/auth/feed"
)

// TestIndexKeepsEveryField: a feed with every field set comes back whole
// from the index; a field added to feed.Feed and not to the index fails here.
func TestIndexKeepsEveryField(t *testing.T) {
	t.Parallel()
	var f feed.Feed
	v := reflect.ValueOf(&f).Elem()
	for i := range v.NumField() {
		if v.Field(i).Kind() != reflect.String {
			t.Fatalf("feed.Feed.%s is not a string: teach the index about it", v.Type().Field(i).Name)
		}
		v.Field(i).SetString("value-" + v.Type().Field(i).Name)
	}
	in := Data{Feeds: []feed.Feed{f}, Trust: feed.Trust{AzureFeedHosts: []string{"a"}, AzureAuthorityHosts: []string{"b"}, AzureTokenHosts: []string{"c"}}, Backend: "keyctl"}
	const stamp = "/x\x001\x002\ne"
	path := filepath.Join(t.TempDir(), "sub", "config.index")
	Write(path, stamp, in)
	out, ok := Read(path, stamp)
	if !ok || !reflect.DeepEqual(out, in) {
		t.Fatalf("round trip = %+v, %v; want %+v", out, ok, in)
	}
	if _, ok := Read(path, stamp+"x"); ok {
		t.Error("an index read back under another stamp")
	}
	for _, bad := range [][]byte{nil, []byte(magic), append(encode(stamp, in).Bytes(), 0)} {
		if _, _, err := decode(bad); err == nil {
			t.Errorf("decode(%q) succeeded", bad)
		}
	}
}
