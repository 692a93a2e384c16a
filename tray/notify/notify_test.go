package notify

import (
	"context"
	"testing"
)

func TestNop(t *testing.T) {
	var n Notifier = Nop{}
	if err := n.Notify(context.Background(), "t", "b"); err != nil {
		t.Fatal(err)
	}
}
