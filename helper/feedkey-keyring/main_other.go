//go:build !linux

package main

import (
	"context"
	"os"

	"github.com/feedkey/feedkey/helper/keyringcli"
)

func main() { os.Exit(keyringcli.Main(context.Background(), os.Args[1:])) }
