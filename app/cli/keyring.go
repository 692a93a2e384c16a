package cli

import (
	"github.com/spf13/cobra"

	"github.com/feedkey/feedkey/helper/keyringcli"
)

// newCmdKeyring is the whole keyring helper, to which the Linux helper's
// quick path hands every call it does not answer itself: the quick path
// links nothing it does not need, so that pip's common call costs little
// more than starting a program.
func newCmdKeyring(env *Env) *cobra.Command {
	return &cobra.Command{
		Use:                "keyring [keyring's arguments]",
		Short:              "Answer as the keyring helper does (Python keyring's command line)",
		Hidden:             true, // run by the helper, not by people
		DisableFlagParsing: true, // they are keyring's, parsed as keyring parses them
		RunE: func(cmd *cobra.Command, args []string) error {
			if code := keyringcli.Main(cmd.Context(), args); code != 0 {
				return errChildExit(code)
			}
			return nil
		},
	}
}
