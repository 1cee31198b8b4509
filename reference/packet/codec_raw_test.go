package packet

import (
	"bytes"
	"testing"
)

// LastRaw returns the exact bytes of each packet, non-minimal length
// encodings and all, and what was read of a refused one.
func TestReaderLastRaw(t *testing.T) {
	in := []byte{0xC0, 0x00, 0xD0, 0x00, 0x30, 0x80, 0x00}
	r := NewReader(bytes.NewReader(in), DecodeOptions{Version: V5})
	r.KeepRaw = true
	for _, want := range [][]byte{{0xC0, 0x00}, {0xD0, 0x00}} {
		if _, err := r.ReadPacket(); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.LastRaw(), want) {
			t.Fatalf("LastRaw % X, want % X", r.LastRaw(), want)
		}
	}
	if _, err := r.ReadPacket(); err == nil {
		t.Fatal("non-minimal remaining length accepted")
	}
	if !bytes.Equal(r.LastRaw(), []byte{0x30, 0x80, 0x00}) {
		t.Fatalf("LastRaw after refusal % X", r.LastRaw())
	}
}
