// Package bincode is the little binary encoding of the files oidc-auth
// writes for its own later reading (the config's match cache, the first
// stage's memo): little-endian uint64s, varints as encoding/binary writes
// them, and strings with their length first. It imports nothing, so that
// the first stage of the small commands (internal/lean) can read what the
// core writes without encoding/binary's reflection.
package bincode

// AppendU64 appends v as 8 little-endian bytes.
func AppendU64(b []byte, v uint64) []byte {
	for i := range 8 {
		b = append(b, byte(v>>(8*i)))
	}
	return b
}

// AppendUvarint appends v as encoding/binary.AppendUvarint does.
func AppendUvarint(b []byte, v uint64) []byte {
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

// AppendVarint appends v as encoding/binary.AppendVarint does (zig-zag).
func AppendVarint(b []byte, v int64) []byte {
	u := uint64(v) << 1
	if v < 0 {
		u = ^u
	}
	return AppendUvarint(b, u)
}

// AppendStr appends each of ss, its length first.
func AppendStr(b []byte, ss ...string) []byte {
	for _, s := range ss {
		b = append(AppendUvarint(b, uint64(len(s))), s...)
	}
	return b
}

// Decoder reads what the Append functions wrote. The first value that is
// not there, or not well formed, makes it bad, and it stays bad: each later
// read returns a zero value, so a caller checks Bad once, at the end.
type Decoder struct {
	b   []byte
	bad bool
}

// NewDecoder returns a Decoder of b.
func NewDecoder(b []byte) *Decoder { return &Decoder{b: b} }

// Bad reports whether a read has failed.
func (d *Decoder) Bad() bool { return d.bad }

// Fail makes d bad: for a value that is there but not one the caller takes.
func (d *Decoder) Fail() { d.bad = true }

// Left is the number of bytes not read yet.
func (d *Decoder) Left() int { return len(d.b) }

// Take returns the next n bytes.
func (d *Decoder) Take(n int) []byte {
	if d.bad || n < 0 || n > len(d.b) {
		d.bad = true
		return nil
	}
	v := d.b[:n]
	d.b = d.b[n:]
	return v
}

// U64 reads what AppendU64 wrote.
func (d *Decoder) U64() uint64 {
	var v uint64
	for i, c := range d.Take(8) {
		v |= uint64(c) << (8 * i)
	}
	return v
}

// Byte reads one byte.
func (d *Decoder) Byte() byte {
	if v := d.Take(1); v != nil {
		return v[0]
	}
	return 0
}

// Uvarint reads what AppendUvarint wrote; one that overflows a uint64, as
// encoding/binary.Uvarint has it, makes d bad.
func (d *Decoder) Uvarint() uint64 {
	var v uint64
	for s := uint(0); s < 64; s += 7 {
		c := d.Byte()
		if d.bad || s == 63 && c > 1 {
			d.bad = true
			return 0
		}
		v |= uint64(c&0x7f) << s
		if c < 0x80 {
			return v
		}
	}
	d.bad = true
	return 0
}

// Varint reads what AppendVarint wrote.
func (d *Decoder) Varint() int64 {
	u := d.Uvarint()
	v := int64(u >> 1)
	if u&1 != 0 {
		v = ^v
	}
	return v
}

// Str reads one string AppendStr wrote.
func (d *Decoder) Str() string {
	n := d.Uvarint()
	if n > uint64(len(d.b)) {
		d.bad = true
		return ""
	}
	return string(d.Take(int(n)))
}
