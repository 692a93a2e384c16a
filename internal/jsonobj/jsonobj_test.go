package jsonobj

import (
	"reflect"
	"testing"
)

func TestDecode(t *testing.T) {
	t.Parallel()
	type out struct {
		S string
		N int
		M map[string]string
	}
	fields := func(o *out) func(string) any {
		return func(key string) any {
			switch key {
			case "s":
				return &o.S
			case "n":
				return &o.N
			case "m":
				return &o.M
			}
			return nil
		}
	}
	good := []struct {
		in   string
		want out
	}{
		{`{}`, out{}},
		{` { "s" : "a\"b\u00e9" , "n" : -3 } `, out{S: "a\"b\u00e9", N: -3}},
		{`{"skip":{"deep":[1,{"x":null}]},"n":2,"S":"case differs: skipped"}`, out{N: 2}},
		{`{"m":{"k":"v"},"s":null,"s":"last wins"}`, out{S: "last wins", M: map[string]string{"k": "v"}}},
	}
	for _, tc := range good {
		var got out
		if err := Decode([]byte(tc.in), fields(&got)); err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Decode(%s) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{``, `null`, `[]`, `"s"`, `{`, `{"s":"a"`, `{"s":"a"}x`, `{"s":"a"} {}`,
		`{"s":1}`, `{"n":"1"}`, `{"n":1.5}`, `{"s":"a",}`, `{1:2}`, `{"m":{"k":1}}`, `{"s":"\ud800"x}`} {
		var got out
		if err := Decode([]byte(bad), fields(&got)); err == nil {
			t.Errorf("Decode(%q): no error, got %+v", bad, got)
		}
	}
}
