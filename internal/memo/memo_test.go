package memo

import (
	"reflect"
	"testing"
)

// TestRoundTrip: what Encode writes, Decode reads back for the same key
// only, and Add keeps the latest first within the limits.
func TestRoundTrip(t *testing.T) {
	k := Key{Exe: [4]uint64{1, 2, 3, 1 << 62}, Size: NoConfig, Sum: 7}
	var recs []Record
	for i := range MaxRecords + 3 {
		q := Git("https", "h"+string(rune('a'+i%26))+string(rune('a'+i/26)), "/p")
		recs = Add(recs, q, "https://h", Variant{Key: VariantKey("https://h", "", []int{8080, 1}), User: "u\x00\xff", FromRecord: i%2 == 0, UserFixed: i%3 == 0, Auth: "bearer"})
	}
	recs = Add(recs, recs[3].Question, recs[3].LoginKey, Variant{Key: VariantKey("", "", nil), User: "oauth2"})
	if len(recs) != MaxRecords || len(recs[0].Variants) != 2 || recs[0].Variants[0].Key != VariantKey("", "", nil) {
		t.Fatalf("Add kept %d records, the first %+v", len(recs), recs[0])
	}
	b := Encode(k, recs)
	got, ok := Decode(b, k)
	if !ok || !reflect.DeepEqual(got, recs) {
		t.Fatalf("Decode = %v %+v, want %+v", ok, got, recs)
	}
	if _, ok := Decode(b, Key{Exe: k.Exe, Size: 1, Sum: 7}); ok {
		t.Fatal("Decode took the file of another config")
	}
	for n := range len(b) {
		if _, ok := Decode(b[:n], k); ok {
			t.Fatalf("Decode took the file cut at %d of %d", n, len(b))
		}
	}
	if _, ok := Decode(append(b, 0), k); ok {
		t.Fatal("Decode took a file with a byte more")
	}
	if VariantKey("a", "b", []int{1, 2}) == VariantKey("a", "b", []int{12}) || VariantKey("a1:", "", nil) == VariantKey("a", "1:", nil) {
		t.Fatal("variant keys collide")
	}
}

// FuzzDecode: nothing Decode reads makes it fail other than by refusing.
func FuzzDecode(f *testing.F) {
	k := Key{Size: 5}
	f.Add(Encode(k, Add(nil, Token("h"), "https://h", Variant{Key: "x"})))
	f.Fuzz(func(t *testing.T, b []byte) {
		if recs, ok := Decode(b, k); ok {
			if again, ok := Decode(Encode(k, recs), k); !ok || !reflect.DeepEqual(again, recs) {
				t.Fatalf("records %+v do not survive a round trip", recs)
			}
		}
	})
}

// TestID: ParseID reads what FormatID writes, and nothing else.
func TestID(t *testing.T) {
	for _, id := range [][4]uint64{{}, {1, 2, 3, 4}, {^uint64(0), 0, 1 << 40, 7}} {
		if got, ok := ParseID(FormatID(id)); !ok || got != id {
			t.Errorf("ParseID(FormatID(%v)) = %v, %v", id, got, ok)
		}
	}
	for _, s := range []string{"", "1-2-3", "1-2-3-4-5", "1-2-3-x", "1--3-4", "-1-2-3-4", "1-2-3-4-"} {
		if _, ok := ParseID(s); ok {
			t.Errorf("ParseID(%q) took it", s)
		}
	}
}
