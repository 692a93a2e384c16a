//go:build linux

package store

import "encoding/binary"

// wire marshals the pipeline's few method calls in little-endian order,
// each value aligned from the message's start (D-Bus specification,
// "Marshaling"). godbus encodes any Go value through reflection, which
// cost the helper more than the calls it sends (SPEC §10); these signatures
// are fixed, and TestWireMatchesGodbus reads every call back with godbus.
type wire struct{ b []byte }

func (w *wire) pad(to int) {
	for len(w.b)%to != 0 {
		w.b = append(w.b, 0)
	}
}

func (w *wire) u32(v uint32) {
	w.pad(4)
	w.b = binary.LittleEndian.AppendUint32(w.b, v)
}

// str writes an s or an o: its length, its bytes and a NUL.
func (w *wire) str(s string) {
	w.u32(uint32(len(s)))
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
}

// sig writes a g: a one-byte length, the bytes and a NUL.
func (w *wire) sig(s string) {
	w.b = append(w.b, byte(len(s)))
	w.b = append(w.b, s...)
	w.b = append(w.b, 0)
}

// array writes an array whose elements align to align and are written by
// elems: the length counts from the first element, after its padding.
func (w *wire) array(align int, elems func()) {
	w.pad(4)
	at := len(w.b)
	w.b = append(w.b, 0, 0, 0, 0)
	w.pad(align)
	start := len(w.b)
	elems()
	binary.LittleEndian.PutUint32(w.b[at:], uint32(len(w.b)-start))
}

// Header fields the pipeline writes or reads, and the message types it
// reads (D-Bus specification, "Message Format").
const (
	fieldPath        = 1
	fieldInterface   = 2
	fieldMember      = 3
	fieldErrorName   = 4
	fieldReplySerial = 5
	fieldDestination = 6
	fieldSignature   = 8

	typeMethodReturn = 2
	typeError        = 3
)

// appendCall appends to dst a method call numbered serial, its body of
// signature sig written by body (nil for none).
func appendCall(dst []byte, serial uint32, flags byte, dest, path, iface, member, sig string, body func(*wire)) []byte {
	w := wire{b: make([]byte, 0, 256)}
	// Byte order, type (method call), flags, protocol version; the body's
	// length is written in at the end.
	w.b = append(w.b, 'l', 1, flags, 1, 0, 0, 0, 0)
	w.b = binary.LittleEndian.AppendUint32(w.b, serial)
	w.array(8, func() {
		field := func(code byte, typ, v string) {
			w.pad(8)
			w.b = append(w.b, code)
			w.sig(typ)
			if typ == "g" {
				w.sig(v)
			} else {
				w.str(v)
			}
		}
		field(fieldPath, "o", path)
		field(fieldDestination, "s", dest)
		field(fieldInterface, "s", iface)
		field(fieldMember, "s", member)
		if sig != "" {
			field(fieldSignature, "g", sig)
		}
	})
	w.pad(8)
	start := len(w.b)
	if body != nil {
		body(&w)
	}
	binary.LittleEndian.PutUint32(w.b[4:], uint32(len(w.b)-start))
	return append(dst, w.b...)
}
