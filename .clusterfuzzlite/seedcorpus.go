//go:build ignore

// seedcorpus converts a native Go fuzz corpus (the "go test fuzz v1" files
// of testdata/fuzz/FuncName) into a libFuzzer seed corpus zip for the
// binaries compile_native_go_fuzzer builds. Such a binary hands libFuzzer's
// raw input to the fuzz function by consuming it argument after argument:
// a []byte or string as a 4-byte big-endian length and that many bytes, a
// byte as itself. The go test files, one Go literal per argument, are
// re-encoded that way. Used by build.sh:
//
//	go run .clusterfuzzlite/seedcorpus.go -o OUT/name_seed_corpus.zip DIR
package main

import (
	"archive/zip"
	"bufio"
	"encoding/binary"
	"flag"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
)

func main() {
	out := flag.String("o", "", "the seed corpus zip to write")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: go run seedcorpus.go -o NAME_seed_corpus.zip testdata/fuzz/FuncName")
		os.Exit(2)
	}
	n, skipped, err := convert(flag.Arg(0), *out)
	if err != nil {
		fmt.Fprintln(os.Stderr, "seedcorpus:", err)
		os.Exit(1)
	}
	fmt.Printf("seedcorpus: %d seeds from %s into %s (%d skipped: an empty []byte has no encoding)\n", n, flag.Arg(0), *out, skipped)
}

func convert(dir, out string) (n, skipped int, err error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, err
	}
	var names []string
	for _, e := range entries {
		if e.Type().IsRegular() {
			names = append(names, e.Name())
		}
	}
	sort.Strings(names)
	f, err := os.Create(out)
	if err != nil {
		return 0, 0, err
	}
	zw := zip.NewWriter(f)
	for _, name := range names {
		raw, ok, err := encodeFile(filepath.Join(dir, name))
		if err != nil {
			f.Close()
			return n, skipped, err
		}
		if !ok {
			skipped++
			continue
		}
		w, err := zw.Create(name)
		if err != nil {
			f.Close()
			return n, skipped, err
		}
		if _, err := w.Write(raw); err != nil {
			f.Close()
			return n, skipped, err
		}
		n++
	}
	if err := zw.Close(); err != nil {
		f.Close()
		return n, skipped, err
	}
	if n == 0 {
		f.Close()
		return 0, skipped, fmt.Errorf("%s: no seed could be converted", dir)
	}
	return n, skipped, f.Close()
}

// encodeFile re-encodes one corpus file; ok is false for a seed the
// binary's input format cannot express.
func encodeFile(path string) (raw []byte, ok bool, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	if !sc.Scan() || sc.Text() != "go test fuzz v1" {
		return nil, false, fmt.Errorf("%s: not a go test fuzz v1 file", path)
	}
	line := 1
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" {
			continue
		}
		b, ok, err := encodeValue(text)
		if err != nil {
			return nil, false, fmt.Errorf("%s:%d: %v", path, line, err)
		}
		if !ok {
			return nil, false, nil
		}
		raw = append(raw, b...)
	}
	return raw, true, sc.Err()
}

// encodeValue encodes one literal such as []byte("\x10\x00"), string("a/b")
// or byte('\x05').
func encodeValue(text string) ([]byte, bool, error) {
	expr, err := parser.ParseExpr(text)
	if err != nil {
		return nil, false, err
	}
	call, isCall := expr.(*ast.CallExpr)
	if !isCall || len(call.Args) != 1 {
		return nil, false, fmt.Errorf("%q: want a conversion such as []byte(\"…\")", text)
	}
	lit, isLit := call.Args[0].(*ast.BasicLit)
	if !isLit {
		return nil, false, fmt.Errorf("%q: want a literal argument", text)
	}
	typ := typeName(call.Fun)
	switch typ {
	case "[]byte", "string":
		if lit.Kind != token.STRING {
			return nil, false, fmt.Errorf("%q: want a string literal", text)
		}
		s, err := strconv.Unquote(lit.Value)
		if err != nil {
			return nil, false, err
		}
		if len(s) == 0 {
			// A zero length reads as 30, and nothing follows to take.
			return nil, false, nil
		}
		out := binary.BigEndian.AppendUint32(nil, uint32(len(s)))
		return append(out, s...), true, nil
	case "byte", "uint8":
		var v uint64
		switch lit.Kind {
		case token.CHAR:
			r, _, _, err := strconv.UnquoteChar(lit.Value[1:len(lit.Value)-1], '\'')
			if err != nil {
				return nil, false, err
			}
			v = uint64(r)
		case token.INT:
			if v, err = strconv.ParseUint(lit.Value, 0, 8); err != nil {
				return nil, false, err
			}
		default:
			return nil, false, fmt.Errorf("%q: want a byte literal", text)
		}
		if v > 255 {
			return nil, false, fmt.Errorf("%q: out of a byte's range", text)
		}
		return []byte{byte(v)}, true, nil
	}
	return nil, false, fmt.Errorf("%q: type %s is not handled yet: extend seedcorpus.go with the encoding the builder's consumer uses for it", text, typ)
}

func typeName(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.Ident:
		return t.Name
	case *ast.ArrayType:
		if t.Len == nil {
			return "[]" + typeName(t.Elt)
		}
	}
	return fmt.Sprintf("%T", e)
}
