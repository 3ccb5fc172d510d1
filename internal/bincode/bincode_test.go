package bincode

import (
	"encoding/binary"
	"math"
	"testing"
)

// TestAgreesWithEncodingBinary: the varints and uint64s are
// encoding/binary's, written and read, and what encoding/binary refuses
// to read (cut short, overflowing) makes the Decoder bad.
func TestAgreesWithEncodingBinary(t *testing.T) {
	for _, u := range []uint64{0, 1, 0x7f, 0x80, 300, 1 << 32, math.MaxInt64, math.MaxUint64} {
		if got, want := AppendUvarint(nil, u), binary.AppendUvarint(nil, u); string(got) != string(want) {
			t.Errorf("AppendUvarint(%d) = %x, want %x", u, got, want)
		}
		if got, want := AppendU64(nil, u), binary.LittleEndian.AppendUint64(nil, u); string(got) != string(want) {
			t.Errorf("AppendU64(%d) = %x, want %x", u, got, want)
		}
		d := NewDecoder(append(AppendUvarint(nil, u), AppendU64(nil, u)...))
		if v, w := d.Uvarint(), d.U64(); d.Bad() || v != u || w != u || d.Left() != 0 {
			t.Errorf("read back %d: %d, %d, bad %v, %d left", u, v, w, d.Bad(), d.Left())
		}
	}
	for _, v := range []int64{0, 1, -1, 63, -64, 64, math.MaxInt64, math.MinInt64} {
		if got, want := AppendVarint(nil, v), binary.AppendVarint(nil, v); string(got) != string(want) {
			t.Errorf("AppendVarint(%d) = %x, want %x", v, got, want)
		}
		if d := NewDecoder(AppendVarint(nil, v)); d.Varint() != v || d.Bad() {
			t.Errorf("Varint of %d read back wrong", v)
		}
	}
	for _, b := range [][]byte{
		{},
		{0x80},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02},       // overflows
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, // too long
	} {
		_, n := binary.Uvarint(b)
		d := NewDecoder(b)
		d.Uvarint()
		if n > 0 || !d.Bad() {
			t.Errorf("%x: encoding/binary reads %d bytes; the Decoder is bad: %v", b, n, d.Bad())
		}
	}
}

// TestStaysBad: a string longer than what is left, or a Take past the
// end, makes the Decoder bad, and every read after it is zero.
func TestStaysBad(t *testing.T) {
	b := AppendStr(nil, "one", "two")
	d := NewDecoder(b[:len(b)-1])
	if d.Str() != "one" || d.Bad() {
		t.Fatal("the first string")
	}
	if s := d.Str(); s != "" || !d.Bad() {
		t.Fatalf("a string cut short: %q, bad %v", s, d.Bad())
	}
	if d.Byte() != 0 || d.U64() != 0 || d.Take(0) != nil || !d.Bad() {
		t.Error("a read after the first failure was not zero")
	}
	d = NewDecoder([]byte{1})
	d.Fail()
	if d.Byte() != 0 || !d.Bad() {
		t.Error("Fail did not make the Decoder bad")
	}
}

// FuzzDecoder: whatever the bytes, the Decoder neither panics nor reads
// past them, and a value it reads well is what encoding/binary reads.
func FuzzDecoder(f *testing.F) {
	f.Add(AppendStr(AppendUvarint(nil, 300), "x"))
	f.Fuzz(func(t *testing.T, b []byte) {
		d := NewDecoder(b)
		v := d.Uvarint()
		w, n := binary.Uvarint(b)
		if (n > 0) == d.Bad() || n > 0 && (v != w || d.Left() != len(b)-n) {
			t.Fatalf("%x: Uvarint %d (bad %v, %d left), encoding/binary %d, %d", b, v, d.Bad(), d.Left(), w, n)
		}
		for !d.Bad() && d.Left() > 0 {
			d.Str()
		}
	})
}
