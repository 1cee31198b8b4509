package auth

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"strconv"
)

// ParseError reports a line of a password or ACL file that could not be
// used. Its message names the file (when known), the line and what was
// wrong; it never contains a password or a password hash.
type ParseError struct {
	// File is the path given to LoadPasswordFile or LoadACLFile; it is empty
	// when the input came from ParsePasswords or ParseACL.
	File string
	// Line is the 1-based line number; 0 when the fault is not tied to a
	// line (for example a read error).
	Line int
	// Msg says what was wrong.
	Msg string
}

func (e *ParseError) Error() string {
	prefix := e.File
	if e.Line > 0 {
		if prefix != "" {
			prefix += ":"
		}
		prefix += "line " + strconv.Itoa(e.Line)
	}
	if prefix == "" {
		return e.Msg
	}
	return prefix + ": " + e.Msg
}

func lineErr(line int, format string, args ...any) *ParseError {
	return &ParseError{Line: line, Msg: fmt.Sprintf(format, args...)}
}

// withFile sets the file name on a *ParseError returned by a parser.
func withFile(err error, path string) error {
	var pe *ParseError
	if errors.As(err, &pe) {
		pe.File = path
	}
	return err
}

// maxLine bounds one line of a password or ACL file. A username may be
// 65,535 bytes long (the MQTT string limit) and a hash is under 200, so a
// password line always fits; an ACL filter is at most 65,535 bytes.
const maxLine = 1 << 17

// newLineScanner returns a scanner over r that accepts lines up to maxLine.
func newLineScanner(r io.Reader) *bufio.Scanner {
	s := bufio.NewScanner(r)
	s.Buffer(make([]byte, 0, 4096), maxLine)
	return s
}

// scanErr turns a scanner error after line n into a *ParseError.
func scanErr(err error, n int) error {
	if errors.Is(err, bufio.ErrTooLong) {
		return lineErr(n+1, "line longer than %d bytes", maxLine)
	}
	return &ParseError{Msg: "read: " + err.Error()}
}
