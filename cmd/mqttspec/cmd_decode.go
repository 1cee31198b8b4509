package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/mqttspec/mqttspec/reference/packet"
	"github.com/spf13/cobra"
)

type decodeFlags struct {
	mqtt     string
	json     bool
	maxSize  int
	hexStdin bool
	full     bool
}

func newDecodeCmd() *cobra.Command {
	var f decodeFlags
	cmd := &cobra.Command{
		Use:   "decode HEX...|-",
		Short: "Decode and validate captured MQTT packets",
		Long: `decode reads one or more concatenated MQTT control packets, checks them with
mqttspec's strict codec and prints each packet's fields.

The bytes come from the HEX arguments (spaces, colons, commas and 0x prefixes
are allowed between bytes, and several arguments are read as one), from
standard input as raw bytes with "-", or from standard input as hex text with
--hex-stdin.

Packets are read as MQTT 3.1.1 unless --mqtt says otherwise; a CONNECT carries
its own protocol level and sets it for the packets after it.

Decoding stops at the first invalid packet: the packets before it are printed,
then the error with its offset, the normative statement (or section) it breaks
and the reason code a server answers with. The exit code is then 1.`,
		Example: `  mqttspec decode 3011000b4c6f6e672d486f6d652f4b32312e35
  mqttspec decode 30 11 00 0b 4c 6f 6e 67 2d 48 6f 6d 65 2f 4b 32 31 2e 35
  mqttspec decode --mqtt 5 --json 0x40:0x03:0x00:0x07:0x10
  mqttspec decode - < stream.bin    # raw bytes, e.g. one direction of a TCP stream
  xxd -p capture.bin | mqttspec decode --hex-stdin`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDecode(cmd, args, f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.mqtt, "mqtt", "", "protocol `VERSION` of the packets before the first CONNECT: 3.1, 3.1.1 or 5 (default 3.1.1)")
	fl.BoolVar(&f.json, "json", false, "print one JSON object per line for each packet and for the error")
	fl.IntVar(&f.maxSize, "max-packet-size", 0, "refuse packets larger than `N` bytes, fixed header included (default: the protocol's largest)")
	fl.BoolVar(&f.hexStdin, "hex-stdin", false, "read hex text, not raw bytes, from standard input")
	fl.BoolVar(&f.full, "full", false, "print binary data whole (text output cuts it after 256 bytes; --json never does)")
	return cmd
}

func runDecode(cmd *cobra.Command, args []string, f decodeFlags) error {
	opts := packet.DecodeOptions{MaxPacketSize: f.maxSize}
	explicit := f.mqtt != ""
	if explicit {
		v, err := packet.ParseVersion(f.mqtt)
		if err != nil {
			return usageErrorf("--mqtt: %v", err)
		}
		opts.Version = v
	}
	if f.maxSize < 0 {
		return usageErrorf("--max-packet-size must not be negative, got %d", f.maxSize)
	}
	input, err := decodeInput(cmd, args, f.hexStdin)
	if err != nil {
		return err
	}

	packets, failure := decodeAll(input, opts, !explicit)
	if failure != nil && failure.err != nil {
		failure.hint = versionHint(input, opts, failure)
	}

	out := cmd.OutOrStdout()
	if f.json {
		enc := json.NewEncoder(out)
		enc.SetEscapeHTML(false)
		for _, p := range packets {
			if err := enc.Encode(p.jsonObject(input)); err != nil {
				return err
			}
		}
		if failure != nil {
			if err := enc.Encode(failure.jsonObject(input)); err != nil {
				return err
			}
		}
	} else {
		describe := packet.DescribeOptions{Full: f.full}
		for _, p := range packets {
			note := ""
			if p.assumed {
				note = " [3.1.1 assumed]"
			}
			fmt.Fprintf(out, "#%d @%d (%s) %s%s\n", p.index, p.offset, plural(p.length, "byte"), p.pkt.Type(), note)
			io.WriteString(out, packet.DescribeWith(p.pkt, p.version, describe).Text("  "))
		}
	}
	if failure != nil {
		return errors.New(failure.message())
	}
	return nil
}

// decodeInput returns the bytes to decode from the argument or stdin.
func decodeInput(cmd *cobra.Command, args []string, hexStdin bool) ([]byte, error) {
	var text, source string
	switch {
	case hexStdin:
		if len(args) > 1 || len(args) == 1 && args[0] != "-" {
			return nil, usageErrorf("--hex-stdin reads standard input: give no HEX argument (or -)")
		}
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		text, source = string(b), "standard input"
	case len(args) == 0:
		return nil, usageErrorf("give the packets as a HEX argument, or - to read raw bytes from standard input")
	case len(args) > 1 && slices.Contains(args, "-"):
		return nil, usageErrorf("- (read standard input) cannot be combined with HEX arguments")
	case args[0] == "-":
		b, err := io.ReadAll(cmd.InOrStdin())
		if err != nil {
			return nil, fmt.Errorf("reading standard input: %w", err)
		}
		if len(b) == 0 {
			return nil, usageErrorf("standard input is empty: no bytes to decode")
		}
		return b, nil
	default:
		text, source = strings.Join(args, " "), "the HEX argument"
	}
	b, err := parseHex(text)
	if err != nil {
		return nil, usageErrorf("bad hex in %s: %v", source, err)
	}
	if len(b) == 0 {
		return nil, usageErrorf("%s holds no hex digits: no bytes to decode", source)
	}
	return b, nil
}

// parseHex reads hex digits in groups separated by white space, colons or
// commas; a group may start with 0x. Every group has an even number of digits.
func parseHex(s string) ([]byte, error) {
	digits := make([]byte, 0, len(s))
	multiline := strings.Contains(s, "\n")
	pos, line, col := 0, 1, 0 // 1-based rune position, line and column of the current rune
	groupStart, groupPos, groupLen := true, 0, 0
	endGroup := func() error {
		if groupLen%2 != 0 {
			return fmt.Errorf("the group of hex digits at %s has an odd number of digits (%d)", where(multiline, groupPos, line, col), groupLen)
		}
		groupLen = 0
		groupStart = true
		return nil
	}
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		pos++
		col++
		switch {
		case r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == ':' || r == ',':
			if err := endGroup(); err != nil {
				return nil, err
			}
			if r == '\n' {
				line++
				col = 0
			}
		case groupStart && r == '0' && i+1 < len(s) && (s[i+1] == 'x' || s[i+1] == 'X'):
			groupStart, groupPos = false, pos
			pos++
			col++
			i++ // the x
		case isHexDigit(r):
			if groupStart {
				groupStart, groupPos = false, pos
			}
			digits = append(digits, byte(r))
			groupLen++
		default:
			return nil, fmt.Errorf("%q at %s is not a hex digit (allowed between bytes: spaces, colons, commas, 0x)", r, where(multiline, pos, line, col))
		}
		i += size
	}
	if err := endGroup(); err != nil {
		return nil, err
	}
	out := make([]byte, len(digits)/2)
	if _, err := hex.Decode(out, digits); err != nil {
		return nil, err
	}
	return out, nil
}

func where(multiline bool, pos, line, col int) string {
	if multiline {
		return fmt.Sprintf("line %d, column %d", line, col)
	}
	return fmt.Sprintf("position %d", pos)
}

func isHexDigit(r rune) bool {
	return '0' <= r && r <= '9' || 'a' <= r && r <= 'f' || 'A' <= r && r <= 'F'
}

// decodedPacket is one packet that decoded cleanly.
type decodedPacket struct {
	index, offset, length int
	pkt                   packet.Packet // owned: decoded with packet.Decode, not reused
	version               packet.Version
	assumed               bool // version is the 3.1.1 default, neither given nor set by a CONNECT
}

// decodeFailure is where and why decoding stopped.
type decodeFailure struct {
	index, offset int
	typ           packet.Type // 0 when not known
	length        int         // bytes of the failing packet when its header could be read
	version       packet.Version
	afterConnect  bool          // a CONNECT before it set the version
	err           *packet.Error // nil when the input is incomplete
	have, need    int           // incomplete: bytes present, bytes the header announces (0: inside the header)
	hint          string
}

// decodeAll decodes the packets in b one after the other. A CONNECT sets the
// version for the packets that follow it, as on a connection.
func decodeAll(b []byte, opts packet.DecodeOptions, defaulted bool) ([]decodedPacket, *decodeFailure) {
	var out []decodedPacket
	afterConnect := false
	for off, index := 0, 1; off < len(b); index++ {
		v := opts.Version
		if v == 0 {
			v = packet.V311
		}
		p, n, err := packet.Decode(b[off:], opts)
		if err != nil {
			f := &decodeFailure{index: index, offset: off, typ: packet.Type(b[off] >> 4), length: n, version: v, afterConnect: afterConnect}
			if errors.Is(err, packet.ErrIncomplete) {
				f.have = len(b) - off
				if h, herr := packet.ParseHeader(b[off:], opts); herr == nil {
					f.need = h.Size()
				}
			} else if e := packet.AsError(err); e != nil {
				f.err = e
				if e.Packet != 0 {
					f.typ = e.Packet
				}
			} else {
				// Decode returns only *packet.Error or ErrIncomplete.
				f.err = &packet.Error{Reason: packet.MalformedPacket, Msg: err.Error()}
			}
			return out, f
		}
		_, isConnect := p.(*packet.Connect)
		out = append(out, decodedPacket{index: index, offset: off, length: n, pkt: p, version: v,
			assumed: defaulted && !afterConnect && !isConnect})
		if c, ok := p.(*packet.Connect); ok {
			opts.Version = c.ProtocolVersion
			afterConnect = true
		}
		off += n
	}
	return out, nil
}

// versionHint names another protocol version under which the whole input
// decodes cleanly, when the version of the failing packet was only given or
// assumed (a CONNECT carries its own).
func versionHint(b []byte, opts packet.DecodeOptions, f *decodeFailure) string {
	if f.afterConnect || f.typ == packet.CONNECT {
		return ""
	}
	for _, alt := range []packet.Version{packet.V5, packet.V311, packet.V31} {
		if alt == f.version {
			continue
		}
		o := opts
		o.Version = alt
		if _, fail := decodeAll(b, o, false); fail == nil {
			flag := alt.String()
			if alt == packet.V5 {
				flag = "5"
			}
			return fmt.Sprintf("these bytes decode as MQTT %s; try --mqtt %s", alt, flag)
		}
	}
	return ""
}

// message is the error line (and hint) for the terminal.
func (f *decodeFailure) message() string {
	var b strings.Builder
	fmt.Fprintf(&b, "packet #%d at offset %d: ", f.index, f.offset)
	if f.err == nil {
		b.WriteString(f.incompleteText())
	} else {
		e := f.err
		if f.typ != 0 {
			fmt.Fprintf(&b, "invalid %s: ", f.typ)
		}
		fmt.Fprintf(&b, "%s [%s] (reason %s)", e.Msg, f.rule(), e.Reason)
	}
	if f.hint != "" {
		b.WriteString("\nhint: " + f.hint)
	}
	return b.String()
}

// rule names the broken rule: statement ID and section, as far as known.
func (f *decodeFailure) rule() string {
	e := f.err
	switch {
	case e.Statement != "" && e.Section != "":
		return e.Statement + ", section " + e.Section
	case e.Statement != "":
		return e.Statement
	case e.Section != "":
		return "section " + e.Section
	}
	return "no statement"
}

func (f *decodeFailure) incompleteText() string {
	if f.need == 0 {
		return fmt.Sprintf("input ends after %s inside the fixed header of a %s", plural(f.have, "byte"), f.typ)
	}
	return fmt.Sprintf("input ends after %s inside a %s that announces %s", plural(f.have, "byte"), f.typ, plural(f.need, "byte"))
}

type packetJSON struct {
	Index   int           `json:"index"`
	Offset  int           `json:"offset"`
	Length  int           `json:"length"`
	Type    string        `json:"type"`
	MQTT    string        `json:"mqtt"`
	Assumed bool          `json:"mqtt_assumed,omitempty"`
	Hex     string        `json:"hex"`
	Summary string        `json:"summary"`
	Fields  packet.Fields `json:"fields"`
}

func (p decodedPacket) jsonObject(input []byte) packetJSON {
	return packetJSON{
		Index: p.index, Offset: p.offset, Length: p.length, Type: p.pkt.Type().String(),
		MQTT: mqttOf(p.pkt, p.version), Assumed: p.assumed,
		Hex:     hex.EncodeToString(input[p.offset : p.offset+p.length]),
		Summary: packet.Summary(p.pkt, p.version),
		Fields:  packet.DescribeWith(p.pkt, p.version, packet.DescribeOptions{Full: true}),
	}
}

// mqttOf is the version a packet was read by: its own for a CONNECT.
func mqttOf(p packet.Packet, v packet.Version) string {
	if c, ok := p.(*packet.Connect); ok {
		return c.ProtocolVersion.String()
	}
	return v.String()
}

type failureJSON struct {
	Index      int    `json:"index"`
	Offset     int    `json:"offset"`
	Length     int    `json:"length,omitempty"`
	Type       string `json:"type,omitempty"`
	MQTT       string `json:"mqtt,omitempty"`
	Hex        string `json:"hex"`
	Error      string `json:"error"`
	Statement  string `json:"statement,omitempty"`
	Section    string `json:"section,omitempty"`
	ReasonCode *int   `json:"reason_code,omitempty"`
	ReasonName string `json:"reason_name,omitempty"`
	Message    string `json:"message"`
	Incomplete bool   `json:"incomplete,omitempty"`
	Have       int    `json:"have,omitempty"`
	Need       int    `json:"need,omitempty"`
	Hint       string `json:"hint,omitempty"`
}

func (f *decodeFailure) jsonObject(input []byte) failureJSON {
	// The bytes of the failing packet: all that is left of an incomplete
	// one; when the header could not be read, the bytes a fixed header takes.
	end := f.offset + f.length
	switch {
	case f.err == nil:
		end = len(input)
	case f.length == 0:
		end = min(len(input), f.offset+5)
	}
	j := failureJSON{Index: f.index, Offset: f.offset, Length: f.length,
		Hex: hex.EncodeToString(input[f.offset:end]), Hint: f.hint}
	if f.typ != packet.CONNECT { // a CONNECT is read by its own level
		j.MQTT = f.version.String()
	}
	if f.typ != 0 {
		j.Type = f.typ.String()
	}
	if f.err == nil {
		j.Message = f.incompleteText()
		j.Error = j.Message
		j.Incomplete, j.Have, j.Need = true, f.have, f.need
		return j
	}
	e := f.err
	code := int(e.Reason)
	j.Statement, j.Section, j.ReasonCode, j.ReasonName = e.Statement, e.Section, &code, e.Reason.Name()
	j.Message = e.Msg
	j.Error = strings.SplitN(f.message(), "\n", 2)[0]
	return j
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
