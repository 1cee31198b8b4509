package auth

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// Access is what a client wants to do with a topic.
type Access uint8

const (
	// Read is receiving messages: a delivery to a subscriber, retained
	// messages included.
	Read Access = 1 << iota
	// Write is publishing (a PUBLISH from the client, or its will).
	Write
)

func (a Access) String() string {
	switch a {
	case Read:
		return "read"
	case Write:
		return "write"
	case Read | Write:
		return "readwrite"
	case 0:
		return "deny"
	}
	return fmt.Sprintf("Access(%d)", uint8(a))
}

// rule is one topic or pattern line. access 0 means deny.
type rule struct {
	access Access
	filter string
	// pattern rules only: whether the filter has a %u or %c level.
	usesUser, usesClient bool
}

// ACL is a parsed ACL file in Mosquitto's syntax. It is immutable and safe
// for concurrent use. Once an ACL is in force, anything it does not allow
// is denied, so an ACL file without rules denies everything (as Mosquitto
// does since its fix for CVE-2018-12550). A nil *ACL denies everything too:
// a broker without an ACL file should not consult one.
//
// Deciding an access (Allowed):
//
//  1. The rules that apply to a client are the "topic" rules of its user
//     section (those before any "user" line for an anonymous client; none
//     for a username without a section) plus every "pattern" rule, with %u
//     replaced by the username and %c by the client ID. A pattern with %u
//     does not apply to an anonymous client.
//  2. If any applicable deny rule matches the topic, access is denied.
//  3. Otherwise access is allowed if an applicable read (write) or
//     readwrite rule matches it, and denied if none does.
//
// Mosquitto 2.0 differs in one respect: it looks at the user's topic rules
// first (deny before allow) and at the patterns only if none of those
// matched, so there a pattern deny does not override a topic allow. Here a
// deny anywhere wins. Everything Allowed grants, Mosquitto grants too, with
// one exception outside the file's control: Mosquitto treats a client that
// sent a zero-length username as a user named "" (no topic rules, %u
// substituted by ""), while here username "" means anonymous.
//
// Pattern substitution and unsafe identities. A username or client ID that
// contains '+' or '#' would turn a pattern into a wildcard (client ID "#" and
// "pattern read clients/%c/#" would read every client's topics); one that
// contains '/' would reach into another client's subtree (client ID
// "victim/x" and "pattern write clients/%c/#" would write below
// clients/victim/). For a client whose username or client ID contains any
// of the three, no pattern rule allows anything. Deny patterns still apply,
// with the value substituted as it is: a '+' only widens a deny, a '#'
// widens it or makes it target topics that cannot exist, and a '/' makes
// it target exactly the client's own literal subtree. Its topic rules are
// unaffected. Mosquitto 2.0 likewise grants nothing through patterns to
// such a client (its pattern stage denies outright), but only for '+' and
// '#': it has accepted '/' since 1.4.15. A client with an empty client ID
// gets nothing from allow patterns with %c.
type ACL struct {
	anonymous []rule
	users     map[string][]rule
	patterns  []rule
}

// LoadACLFile reads an ACL file (see ParseACL). Errors name the file and
// line.
func LoadACLFile(path string) (*ACL, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("acl file: %w", err)
	}
	defer f.Close()
	a, err := ParseACL(f)
	return a, withFile(err, path)
}

// ParseACL reads an ACL file in Mosquitto's syntax, one statement a line:
//
//	user <username>
//	topic [read|write|readwrite|deny] <filter>
//	pattern [read|write|readwrite|deny] <filter>
//
// The access defaults to readwrite. "topic" lines before the first "user"
// line apply to anonymous clients, later ones to the user named by the last
// "user" line (a user may have several sections; they add up). "pattern"
// lines apply to every client wherever they stand; in their filter a level
// "%u" stands for the username and "%c" for the client ID. The username
// and the filter are the rest of the line, so both may contain spaces
// (then the access word is required, as in Mosquitto). Words are separated
// by spaces or tabs; blank lines and lines whose first non-blank character
// is '#' are comments.
//
// Every filter must be a valid MQTT topic filter (checked as Mosquitto
// does). Stricter than Mosquitto: %u and %c must each fill a whole level
// ("sensors/%u/#", not "sensors/%u-data"), as Mosquitto's manual asks but
// its parser does not check. Any fault is a *ParseError with the line.
func ParseACL(r io.Reader) (*ACL, error) {
	a := &ACL{users: map[string][]rule{}}
	var user string // "" until the first user line
	inUser := false
	sc := newLineScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		keyword, rest := cutWord(line)
		switch keyword {
		case "user":
			if rest == "" {
				return nil, lineErr(n, "missing username after \"user\"")
			}
			user, inUser = rest, true
		case "topic", "pattern":
			r, err := parseRule(keyword, rest)
			if err != nil {
				return nil, lineErr(n, "%v", err)
			}
			switch {
			case keyword == "pattern":
				a.patterns = append(a.patterns, r)
			case inUser:
				a.users[user] = append(a.users[user], r)
			default:
				a.anonymous = append(a.anonymous, r)
			}
		default:
			return nil, lineErr(n, "unknown keyword %q (want user, topic or pattern)", keyword)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, scanErr(err, n)
	}
	return a, nil
}

// cutWord splits s, which has no leading blanks, at its first run of
// blanks.
func cutWord(s string) (word, rest string) {
	i := strings.IndexAny(s, " \t")
	if i < 0 {
		return s, ""
	}
	return s[:i], strings.TrimLeft(s[i:], " \t")
}

// parseRule parses what follows "topic" or "pattern".
func parseRule(keyword, rest string) (rule, error) {
	if rest == "" {
		return rule{}, fmt.Errorf("missing topic filter after %q", keyword)
	}
	r := rule{access: Read | Write}
	word, filter := cutWord(rest)
	if filter == "" {
		filter = word
	} else {
		switch word {
		case "read":
			r.access = Read
		case "write":
			r.access = Write
		case "readwrite":
			r.access = Read | Write
		case "deny":
			r.access = 0
		default:
			return rule{}, fmt.Errorf("invalid access %q (want read, write, readwrite or deny; a filter containing a space needs one)", word)
		}
	}
	// Version 3.1.1 rules: "$share/..." is an ordinary filter here, as in
	// Mosquitto's ACL check.
	if err := packet.ValidateTopicFilter(filter, packet.V311); err != nil {
		return rule{}, fmt.Errorf("invalid topic filter %q: %v", filter, err)
	}
	r.filter = filter
	if keyword == "pattern" {
		for l := range strings.SplitSeq(filter, "/") {
			switch {
			case l == "%u":
				r.usesUser = true
			case l == "%c":
				r.usesClient = true
			case strings.Contains(l, "%u"), strings.Contains(l, "%c"):
				return rule{}, fmt.Errorf("pattern %q: %%u and %%c must each fill a whole topic level", filter)
			}
		}
	}
	return r, nil
}

// ClientACL is the part of an ACL that applies to one client, with the
// patterns already substituted. A broker can make it once at CONNECT (ACL.For)
// and ask it for every message without allocating. It is immutable.
type ClientACL struct {
	deny, read, write []string
}

// unsafeIdentity reports whether s would change the shape of a pattern it
// is substituted into (see ACL).
func unsafeIdentity(s string) bool { return strings.ContainsAny(s, "+#/") }

// For returns the rules that apply to the client with this username ("" for
// anonymous) and client ID. A nil *ACL gives a ClientACL that denies
// everything.
func (a *ACL) For(username, clientID string) *ClientACL {
	c := &ClientACL{}
	if a == nil {
		return c
	}
	topics := a.anonymous
	if username != "" {
		topics = a.users[username]
	}
	for _, r := range topics {
		c.add(r.access, r.filter)
	}
	unsafe := unsafeIdentity(username) || unsafeIdentity(clientID)
	for _, r := range a.patterns {
		if r.usesUser && username == "" {
			continue
		}
		if r.access != 0 && (unsafe || (r.usesClient && clientID == "")) {
			continue
		}
		c.add(r.access, substitute(r.filter, username, clientID))
	}
	return c
}

func (c *ClientACL) add(access Access, filter string) {
	if access == 0 {
		c.deny = append(c.deny, filter)
	}
	if access&Read != 0 {
		c.read = append(c.read, filter)
	}
	if access&Write != 0 {
		c.write = append(c.write, filter)
	}
}

// substitute replaces the %u and %c levels of a pattern filter.
func substitute(filter, username, clientID string) string {
	if !strings.Contains(filter, "%") {
		return filter
	}
	levels := strings.Split(filter, "/")
	for i, l := range levels {
		switch l {
		case "%u":
			levels[i] = username
		case "%c":
			levels[i] = clientID
		}
	}
	return strings.Join(levels, "/")
}

// Allowed reports whether the client may read or write topic (a topic name,
// not a filter). access must be Read or Write; anything else is denied. See
// ACL for the rules.
func (c *ClientACL) Allowed(topic string, access Access) bool {
	var allow []string
	switch access {
	case Read:
		allow = c.read
	case Write:
		allow = c.write
	default:
		return false
	}
	for _, f := range c.deny {
		if packet.MatchTopic(f, topic) {
			return false
		}
	}
	for _, f := range allow {
		if packet.MatchTopic(f, topic) {
			return true
		}
	}
	return false
}

// AllowedSubscribe reports whether the client may subscribe to filter: a
// single read rule must cover it (match every topic it can match), and no
// deny rule may cover it whole. A deny rule that covers only part of the
// filter does not refuse the subscription: the broker enforces it message by
// message through Allowed(topic, Read), so "Long-Home/Küche/#" stays
// subscribable next to "topic deny Long-Home/Küche/secret", and nothing under
// the denied topic is delivered. With only "topic read Long-Home/Küche/#",
// "Long-Home/Küche/+" is allowed and "Long-Home/#" is not.
//
// The check is sound but not complete: a filter covered only by several
// read rules together (say "a/#" by "a" and "a/+/#") is denied. An invalid
// filter is denied. A 5.0 shared subscription must be passed without its
// "$share/{ShareName}/" prefix (the Filter of packet.ParseShared).
//
// Mosquitto 2.0's own ACL file does not check subscriptions at all: it
// grants every SUBSCRIBE and checks read access per message as it delivers.
// A broker using this package should do both: AllowedSubscribe at SUBSCRIBE
// time and Allowed(topic, Read) for every delivery, so that a refused
// subscription is reported to the client (reason code 0x87 in 5.0, 0x80 in
// 3.1.1) instead of silently receiving nothing.
func (c *ClientACL) AllowedSubscribe(filter string) bool {
	if packet.ValidateTopicFilter(filter, packet.V311) != nil {
		return false
	}
	for _, d := range c.deny {
		if covers(d, filter) {
			return false
		}
	}
	for _, r := range c.read {
		if covers(r, filter) {
			return true
		}
	}
	return false
}

// Allowed reports whether the client with this username ("" for anonymous)
// and client ID may read or write topic. It is For(username,
// clientID).Allowed(topic, access); a broker that checks many messages for
// one client should keep the ClientACL.
func (a *ACL) Allowed(username, clientID, topic string, access Access) bool {
	return a.For(username, clientID).Allowed(topic, access)
}

// AllowedSubscribe reports whether the client may subscribe to filter; see
// ClientACL.AllowedSubscribe.
func (a *ACL) AllowedSubscribe(username, clientID, filter string) bool {
	return a.For(username, clientID).AllowedSubscribe(filter)
}
