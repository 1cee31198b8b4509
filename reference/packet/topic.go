package packet

import "strings"

// Topic names, topic filters and matching (3.1.1 section 4.7, 5.0 sections
// 4.7 and 4.8.2).
//
// A topic is a UTF-8 string split into levels by '/'. Levels may be empty:
// "/a", "a/" and "a//b" each have a zero-length level, and it is as real as
// any other. Topic names (what a PUBLISH carries) never hold wildcards; topic
// filters (what SUBSCRIBE and UNSUBSCRIBE carry) may use '+' for exactly one
// level and '#' for any number of trailing levels.
//
// Every rule applies to MQTT 3.1 as it does to 3.1.1. The 3.1 document gives
// two different length limits (32,767 characters in one place, 64 KiB in
// another); like 3.1.1, which settled the question, we use the 65,535-byte
// limit of the string's length prefix. MQTT 3.1 has no statement IDs, so its
// errors cite the 3.1.1 statements, as the rest of the package does.
// A Version other than V5 gets the 3.1.1 rules.

// MaxTopicLength is the largest topic name or topic filter in bytes: the
// length prefix of a UTF-8 string is 16 bits [MQTT-4.7.3-3].
const MaxTopicLength = 65535

// SharePrefix starts the topic filter of an MQTT 5.0 shared subscription,
// "$share/{ShareName}/{Filter}" (5.0 section 4.8.2).
const SharePrefix = "$share/"

const (
	sectionTopic  = "4.7"
	sectionShared = "4.8.2"
	sectionName   = "3.3.2"
)

// Statement IDs whose numbers differ between the two specifications. 5.0
// inserted a statement 4.7.0-1 (no wildcards in topic names) ahead of the
// wildcard rules, so the rule for '#' and the rule for '+' each moved down
// by one compared with 3.1.1.
func stmtMultiLevel(v Version) string {
	if v == V5 {
		return "MQTT-4.7.1-1"
	}
	return "MQTT-4.7.1-2"
}

func stmtSingleLevel(v Version) string {
	if v == V5 {
		return "MQTT-4.7.1-2"
	}
	return "MQTT-4.7.1-3"
}

// topicErr builds an *Error with a reason other than Malformed Packet or
// Protocol Error (Topic Name invalid, Topic Filter invalid).
func topicErr(reason ReasonCode, stmt, section, format string, args ...any) *Error {
	e := malformed(stmt, section, format, args...)
	e.Reason = reason
	return e
}

// checkTopicString applies the rules that topic names and topic filters
// share: at least one character [MQTT-4.7.3-1], no U+0000 [MQTT-4.7.3-2],
// at most 65,535 bytes [MQTT-4.7.3-3] and well-formed UTF-8 (1.5.3 / 1.5.4).
// what names the kind of string in messages; empty is the reason code for a
// zero-length string.
func checkTopicString(s string, v Version, what string, empty ReasonCode) *Error {
	if len(s) == 0 {
		return topicErr(empty, "MQTT-4.7.3-1", sectionTopic, "%s is empty; it must be at least one character long", what)
	}
	if len(s) > MaxTopicLength {
		return malformed("MQTT-4.7.3-3", sectionTopic, "%s is %d bytes long; at most %d are allowed", what, len(s), MaxTopicLength)
	}
	// The UTF-8 check rejects U+0000 as well, but under the general string
	// statement; look first so the error names the topic rule.
	if i := strings.IndexByte(s, 0); i >= 0 {
		return malformed("MQTT-4.7.3-2", sectionTopic, "%s contains the null character U+0000 at byte %d", what, i)
	}
	return checkUTF8(unsafeBytes(s), v)
}

// ValidateTopicName checks a topic name as a PUBLISH carries it (also the
// will topic of CONNECT): non-empty, no U+0000, at most 65,535 bytes,
// well-formed UTF-8 and free of the wildcard characters '+' and '#'
// [MQTT-3.3.2-2] (the general rule is MQTT-4.7.1-1 in 3.1.1 and MQTT-4.7.0-1
// in 5.0).
//
// Encoding faults carry the reason Malformed Packet, a wildcard Protocol
// Error, and an empty name Topic Name invalid. The check is strict: in 5.0 a PUBLISH
// may have a zero-length topic name when it carries a Topic Alias property
// (5.0 section 3.3.2.3.4). That exception depends on the rest of the packet,
// so the PUBLISH decoder handles it and calls ValidateTopicName only for a
// non-empty name. It does not allocate unless it returns an error.
func ValidateTopicName(name string, v Version) error {
	if e := checkTopicString(name, v, "topic name", TopicNameInvalid); e != nil {
		return e
	}
	if i := strings.IndexAny(name, "+#"); i >= 0 {
		return topicErr(ProtocolError, "MQTT-3.3.2-2", sectionName,
			"topic name contains the wildcard character %q at byte %d; wildcards are allowed only in topic filters", name[i], i)
	}
	return nil
}

// ValidateTopicFilter checks a topic filter as SUBSCRIBE and UNSUBSCRIBE
// carry it: the string rules of topic names (non-empty, no U+0000, at most
// 65,535 bytes, well-formed UTF-8), then the wildcard rules. '#' must be the
// last character and stand alone in its level, so "a#", "#/a" and "a/#b" are
// invalid (MQTT-4.7.1-2 in 3.1.1, MQTT-4.7.1-1 in 5.0); '+' must fill a whole
// level, so "a+/b" and "a/+b" are invalid (MQTT-4.7.1-3 in 3.1.1,
// MQTT-4.7.1-2 in 5.0).
//
// In 5.0 a filter starting with "$share/" is a shared subscription and must
// have the form "$share/{ShareName}/{Filter}": a ShareName of at least one
// character [MQTT-4.8.2-1] without '/', '+' or '#', followed by '/' and a
// non-empty topic filter [MQTT-4.8.2-2], which is then checked like any
// other. In 3.1 and 3.1.1 "$share/..." is an ordinary filter.
//
// Encoding faults carry the reason Malformed Packet, every other fault Topic
// Filter invalid. It does not allocate unless it returns an error.
func ValidateTopicFilter(filter string, v Version) error {
	if e := checkTopicString(filter, v, "topic filter", TopicFilterInvalid); e != nil {
		return e
	}
	if v == V5 && strings.HasPrefix(filter, SharePrefix) {
		if e := checkShared(filter, v); e != nil {
			return e
		}
		return nil
	}
	if e := checkWildcards(filter, 0, v); e != nil {
		return e
	}
	return nil
}

// checkShared checks a 5.0 filter known to start with SharePrefix.
func checkShared(filter string, v Version) *Error {
	rest := filter[len(SharePrefix):]
	slash := strings.IndexByte(rest, '/')
	name := rest
	if slash >= 0 {
		name = rest[:slash]
	}
	if name == "" {
		return topicErr(TopicFilterInvalid, "MQTT-4.8.2-1", sectionShared,
			"shared subscription %q has an empty ShareName", filter)
	}
	if i := strings.IndexAny(name, "+#"); i >= 0 {
		return topicErr(TopicFilterInvalid, "MQTT-4.8.2-2", sectionShared,
			"ShareName %q contains the wildcard character %q", name, name[i])
	}
	if slash < 0 {
		return topicErr(TopicFilterInvalid, "MQTT-4.8.2-2", sectionShared,
			"shared subscription %q has no '/' and topic filter after the ShareName", filter)
	}
	offset := len(SharePrefix) + slash + 1
	if offset == len(filter) {
		return topicErr(TopicFilterInvalid, "MQTT-4.8.2-2", sectionShared,
			"shared subscription %q has an empty topic filter after the ShareName", filter)
	}
	return checkWildcards(filter[offset:], offset, v)
}

// checkWildcards checks where '+' and '#' stand in f. offset is the position
// of f inside the filter the client sent, for messages only.
func checkWildcards(f string, offset int, v Version) *Error {
	for i := 0; i < len(f); i++ {
		switch f[i] {
		case '#':
			startsLevel := i == 0 || f[i-1] == '/'
			if !startsLevel || i != len(f)-1 {
				return topicErr(TopicFilterInvalid, stmtMultiLevel(v), sectionTopic,
					"'#' at byte %d of the topic filter must be the last character and alone in its level", offset+i)
			}
		case '+':
			startsLevel := i == 0 || f[i-1] == '/'
			endsLevel := i == len(f)-1 || f[i+1] == '/'
			if !startsLevel || !endsLevel {
				return topicErr(TopicFilterInvalid, stmtSingleLevel(v), sectionTopic,
					"'+' at byte %d of the topic filter must occupy a whole level", offset+i)
			}
		}
	}
	return nil
}

// SharedFilter is a 5.0 shared subscription filter taken apart.
type SharedFilter struct {
	// ShareName names the group of sessions that share the subscription.
	ShareName string
	// Filter is the topic filter that messages are matched against.
	Filter string
}

// ParseShared splits a shared subscription filter "$share/{ShareName}/{Filter}".
// It reports false unless filter has that shape: the prefix, a non-empty
// ShareName and a non-empty Filter. It does not look at wildcards in either
// part; run ValidateTopicFilter (with V5) first, which also rejects
// malformed "$share/" filters that ParseShared merely reports as not shared.
// Shared subscriptions exist only in 5.0: for a 3.1 or 3.1.1 session a
// "$share/..." filter is an ordinary one and ParseShared must not be called.
// The parts are substrings of filter; nothing is allocated.
func ParseShared(filter string) (SharedFilter, bool) {
	if !strings.HasPrefix(filter, SharePrefix) {
		return SharedFilter{}, false
	}
	rest := filter[len(SharePrefix):]
	slash := strings.IndexByte(rest, '/')
	if slash <= 0 || slash == len(rest)-1 {
		return SharedFilter{}, false
	}
	return SharedFilter{ShareName: rest[:slash], Filter: rest[slash+1:]}, true
}

// MatchTopic reports whether topic filter matches topic name (3.1.1 and 5.0
// section 4.7). Levels are compared byte by byte, so matching is case
// sensitive and nothing is normalised [MQTT-4.7.3-4]. '+' matches exactly
// one level, which may be empty ("a/+" matches "a/" but not "a"); '#' as the
// last level matches any number of further levels, none included, so "a/#"
// matches "a", "a/" and "a/b/c". A filter whose first level is a wildcard
// does not match a topic starting with '$' [MQTT-4.7.2-1]: "#" and "+/x" do
// not match "$SYS/x", while "$SYS/#" does.
//
// Both arguments are expected to be valid (see ValidateTopicFilter and
// ValidateTopicName); for invalid ones the result is meaningless but
// MatchTopic never panics. A wildcard character that does not fill a level,
// or a '#' before the last level, is compared literally. A shared
// subscription must be stripped by the caller: pass the Filter of
// ParseShared, not "$share/{ShareName}/{Filter}". MatchTopic does not
// allocate.
func MatchTopic(filter, topic string) bool {
	if len(topic) > 0 && topic[0] == '$' && len(filter) > 0 && (filter[0] == '+' || filter[0] == '#') {
		return false
	}
	// fi and ti are the starts of the current levels. ti == len(topic)+1
	// means the topic has no levels left.
	fi, ti := 0, 0
	for {
		fe := levelEnd(filter, fi)
		fl := filter[fi:fe]
		lastFilterLevel := fe == len(filter)
		if fl == "#" && lastFilterLevel {
			return true
		}
		if ti > len(topic) {
			return false
		}
		te := levelEnd(topic, ti)
		if fl != "+" && fl != topic[ti:te] {
			return false
		}
		lastTopicLevel := te == len(topic)
		if lastFilterLevel {
			return lastTopicLevel
		}
		fi = fe + 1
		ti = te + 1 // past the end when this was the topic's last level
	}
}

// levelEnd returns the index of the '/' that ends the level of s starting
// at i, or len(s) for the last level.
func levelEnd(s string, i int) int {
	if j := strings.IndexByte(s[i:], '/'); j >= 0 {
		return i + j
	}
	return len(s)
}

// TopicLevels returns the number of levels in a topic name or filter: one
// more than the number of '/' characters, so "a", "/" and "a//b" have 1, 2
// and 3 levels. The empty string, which is not a topic, has 0. A shared
// subscription prefix is counted like any other level; strip it first.
func TopicLevels(s string) int {
	if s == "" {
		return 0
	}
	return strings.Count(s, "/") + 1
}
