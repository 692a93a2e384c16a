// Command feedkey-keyring answers pip's, uv's and pixi's `keyring` calls from
// the OS keychain. Install it on PATH as `keyring` (`feedkey install`).
//
// On Linux it is two programs in one call. Its quick path answers the
// common case (`get` of a feed's credential that the tray, the config
// index and the keychain give at once) and links nothing more than that
// needs, so that it starts about as fast as an empty Go program (SPEC
// §10). Every other call it hands, by exec, to `feedkey keyring`, the whole
// helper (package keyringcli), which says why when it cannot answer either.
// Elsewhere it is the whole helper. See deps_test.go for what the quick
// path must never link.
package main
