package simulator

import (
	"fmt"
	"strconv"
	"strings"
)

// A template is a string with placeholders such as "{home}/{room}/Temperatur"
// or "home-{n:04}". It is parsed once and expanded by appending to a byte
// slice, so that building a topic for every publish allocates nothing.
type template struct {
	src   string
	parts []templatePart
}

type templatePart struct {
	literal string
	field   field // fieldNone for a literal
	width   int   // zero-padding width for numeric fields
}

// field is a placeholder name.
type field uint8

const (
	fieldNone   field = iota
	fieldHome         // the home's name
	fieldRoom         // the room's name
	fieldClass        // the device class
	fieldK            // 1-based number of the device within its room and class
	fieldDevice       // global device index (0-based), the publisher id
	fieldN            // 1-based home number (home name templates only)
)

var fieldNames = map[string]field{"home": fieldHome, "room": fieldRoom, "class": fieldClass, "k": fieldK,
	"device": fieldDevice, "n": fieldN}

func (f field) numeric() bool { return f == fieldK || f == fieldDevice || f == fieldN }

// parseTemplate parses src, allowing only the given fields. what names the
// setting in error messages.
func parseTemplate(what, src string, allowed ...field) (template, error) {
	t := template{src: src}
	rest := src
	for rest != "" {
		open := strings.IndexByte(rest, '{')
		if open < 0 {
			if strings.IndexByte(rest, '}') >= 0 {
				return t, fmt.Errorf("%s %q: '}' without '{'", what, src)
			}
			t.parts = append(t.parts, templatePart{literal: rest})
			break
		}
		if strings.IndexByte(rest[:open], '}') >= 0 {
			return t, fmt.Errorf("%s %q: '}' without '{'", what, src)
		}
		if open > 0 {
			t.parts = append(t.parts, templatePart{literal: rest[:open]})
		}
		end := strings.IndexByte(rest[open:], '}')
		if end < 0 {
			return t, fmt.Errorf("%s %q: '{' is not closed", what, src)
		}
		spec := rest[open+1 : open+end]
		name, format, hasFormat := strings.Cut(spec, ":")
		f, ok := fieldNames[name]
		if !ok || !contains(allowed, f) {
			return t, fmt.Errorf("%s %q: unknown placeholder {%s} (allowed here: %s)", what, src, name, fieldList(allowed))
		}
		p := templatePart{field: f}
		if hasFormat {
			w, err := strconv.Atoi(format)
			if !f.numeric() || err != nil || w < 1 || w > 12 {
				return t, fmt.Errorf("%s %q: {%s}: a width such as {%s:04} is allowed only on numbers (k, device, n), 1 to 12 digits", what, src, spec, name)
			}
			p.width = w
		}
		t.parts = append(t.parts, p)
		rest = rest[open+end+1:]
	}
	return t, nil
}

func contains(fs []field, f field) bool {
	for _, x := range fs {
		if x == f {
			return true
		}
	}
	return false
}

func fieldList(fs []field) string {
	var names []string
	for _, f := range fs {
		for n, x := range fieldNames {
			if x == f {
				names = append(names, "{"+n+"}")
			}
		}
	}
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, " ")
}

// uses reports whether the template contains the field.
func (t template) uses(f field) bool {
	for _, p := range t.parts {
		if p.field == f {
			return true
		}
	}
	return false
}

// hasWildcard reports whether a literal part holds '+' or '#'.
func (t template) hasWildcard() bool {
	for _, p := range t.parts {
		if p.field == fieldNone && strings.ContainsAny(p.literal, "+#") {
			return true
		}
	}
	return false
}

// vars are the values placeholders expand to.
type vars struct {
	home, room, class string
	k, device, n      int
}

// appendTo expands the template onto dst.
func (t template) appendTo(dst []byte, v *vars) []byte {
	for _, p := range t.parts {
		switch p.field {
		case fieldNone:
			dst = append(dst, p.literal...)
		case fieldHome:
			dst = append(dst, v.home...)
		case fieldRoom:
			dst = append(dst, v.room...)
		case fieldClass:
			dst = append(dst, v.class...)
		case fieldK:
			dst = appendPadded(dst, v.k, p.width)
		case fieldDevice:
			dst = appendPadded(dst, v.device, p.width)
		case fieldN:
			dst = appendPadded(dst, v.n, p.width)
		}
	}
	return dst
}

func (t template) expand(v *vars) string { return string(t.appendTo(nil, v)) }

func (t template) empty() bool { return len(t.parts) == 0 }

func appendPadded(dst []byte, x, width int) []byte {
	var tmp [20]byte
	s := strconv.AppendInt(tmp[:0], int64(x), 10)
	for i := len(s); i < width; i++ {
		dst = append(dst, '0')
	}
	return append(dst, s...)
}
