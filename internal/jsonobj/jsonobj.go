// Package jsonobj reads a JSON object key by key into the places its caller
// names. A process's first json.Unmarshal into a struct type builds that
// type's field table by reflection, about 0.1 ms: a large share of a
// keyring helper run that decodes one object of each kind and exits
// (SPEC §10). Walking the keys with a json.Decoder costs a fraction of
// that, and encoding/json still reads every value.
package jsonobj

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
)

// Decode reads the JSON object data, each value into field(key), a pointer
// of the value's Go type, or skips it where field returns nil; and checks
// that nothing follows the object. Keys match exactly (json.Unmarshal
// would also match them ignoring case).
func Decode(data []byte, field func(key string) any) error {
	d := json.NewDecoder(bytes.NewReader(data))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return errors.New("not a JSON object")
	}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return err
		}
		key, ok := t.(string)
		if !ok {
			return errors.New("a JSON object key that is not a string")
		}
		dst := field(key)
		if dst == nil {
			dst = new(json.RawMessage)
		}
		if err := d.Decode(dst); err != nil {
			return err
		}
	}
	if _, err := d.Token(); err != nil { // the closing brace
		return err
	}
	if _, err := d.Token(); err != io.EOF {
		return errors.New("data after the JSON object")
	}
	return nil
}
