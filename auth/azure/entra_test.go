package azure

import (
	"encoding/json"
	"testing"
)

func TestRefreshState(t *testing.T) {
	t.Parallel()
	full := `{"AccessToken":{"k":{"secret":"at"}},"RefreshToken":{"k":{"secret":"rt"}},"IdToken":{"k":{"secret":"idt"}},"Account":{"k":{"home_account_id":"h"}},"AppMetadata":{"k":{}}}`
	var got map[string]json.RawMessage
	if err := json.Unmarshal(refreshState([]byte(full)), &got); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"AccessToken", "RefreshToken", "Account", "AppMetadata"} {
		if _, ok := got[k]; !ok {
			t.Errorf("%s was dropped", k)
		}
	}
	for _, k := range []string{"IdToken"} {
		if _, ok := got[k]; ok {
			t.Errorf("%s was kept", k)
		}
	}
	if b := refreshState([]byte("not json")); string(b) != "not json" {
		t.Errorf("an unparsable cache was changed: %q", b)
	}
}
