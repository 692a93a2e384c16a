package store

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/feedkey/feedkey/internal/jsonobj"
)

// TestRecordFields reads back, through record.field, every field of the
// records feedkey writes (internal/jsonobj tests malformed input).
func TestRecordFields(t *testing.T) {
	t.Parallel()
	good := []record{
		{V: 1, Kind: "token", Secret: "s"},
		{V: 2, Kind: "azure", Username: "u\"\\\u2028\U0001F600", Issued: "2026-11-29T05:00:00Z", Expires: "2026-11-29T06:00:00Z", Gen: 1764392400000000000, Chunks: 3, Sum: "ab12", Data: map[string]string{"refresh": "r", "": "\x00"}},
		{V: 1, Data: map[string]string{}},
	}
	for _, want := range good {
		raw, err := json.Marshal(want)
		if err != nil {
			t.Fatal(err)
		}
		var got record
		if err := jsonobj.Decode(raw, got.field); err != nil {
			t.Errorf("%s: %v", raw, err)
			continue
		}
		if len(want.Data) == 0 {
			want.Data = nil // omitempty
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%s: got %+v", raw, got)
		}
	}
}

// FuzzDecodeObject checks, for any input, that the record parser never
// panics and that whatever it accepts json.Unmarshal accepts too, with the
// same values (Unmarshal also matches keys that differ in case, which
// feedkey never writes: such inputs are left out).
func FuzzDecodeObject(f *testing.F) {
	f.Add(`{"v":2,"kind":"token","gen":5,"secret":"s","data":{"a":"b"}}`)
	f.Add(`{"V":1,"v":2}`)
	f.Add(`{"x":[{}],"sum":"\u0041"}`)
	f.Fuzz(func(t *testing.T, raw string) {
		var got record
		if jsonobj.Decode([]byte(raw), got.field) != nil {
			return
		}
		var keys map[string]json.RawMessage
		if err := json.Unmarshal([]byte(raw), &keys); err != nil {
			t.Fatalf("accepted %q, which Unmarshal refuses: %v", raw, err)
		}
		known := []string{"v", "kind", "username", "issued", "expires", "gen", "chunks", "sum", "secret", "data"}
		for k := range keys {
			for _, name := range known {
				if k != name && strings.EqualFold(k, name) {
					return
				}
			}
		}
		var want record
		if err := json.Unmarshal([]byte(raw), &want); err != nil {
			t.Fatalf("accepted %q, which Unmarshal into a record refuses: %v", raw, err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("%q: got %+v, Unmarshal %+v", raw, got, want)
		}
	})
}
