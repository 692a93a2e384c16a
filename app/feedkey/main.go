// Command feedkey signs developers in to private Python package feeds and
// keeps their tokens fresh. See README.md.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"

	"github.com/feedkey/feedkey/app/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	env, err := cli.System()
	if err != nil {
		fmt.Fprintf(os.Stderr, "feedkey: %v\n", err)
		os.Exit(1)
	}
	code := cli.Main(ctx, os.Args[1:], env)
	stop()
	os.Exit(code)
}
