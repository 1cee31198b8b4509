package auth

import "strings"

// Relations between two topic filters, as sets of the topic names they
// match (MQTT 3.1.1 and 5.0 section 4.7, the same rules as
// packet.MatchTopic):
//
//   - '+' as a whole level matches exactly one level, possibly empty;
//   - '#' as the last level matches any number of further levels, none
//     included, except as the only level, where it matches every topic
//     (which has at least one level);
//   - a filter whose first level is '+' or '#' matches no topic that starts
//     with '$';
//   - any other level, including a wildcard character that does not fill a
//     level or a '#' before the last level, is compared literally.
//
// Both functions take the filters as they are and never panic.

// covers reports whether every topic that f matches is matched by a.
func covers(a, f string) bool {
	if dollarMismatch(a, f) {
		return false
	}
	if f == "#" {
		// "#" matches exactly what "+/#" matches (topics have a level).
		f = "+/#"
	}
	for {
		al, arest, amore := nextLevel(a)
		if al == "#" && !amore {
			return true
		}
		fl, frest, fmore := nextLevel(f)
		if fl == "#" && !fmore {
			// f matches topics that end here as well as longer ones; only a
			// '#' in a at this level (handled above) matches both.
			return false
		}
		if al != "+" && (fl == "+" || al != fl) {
			return false
		}
		switch {
		case !amore && !fmore:
			return true
		case !fmore:
			// The topics of f end here; a needs more levels, and only a
			// final '#' can match none.
			return arest == "#"
		case !amore:
			return false
		}
		a, f = arest, frest
	}
}

// dollarMismatch reports whether a cannot match any topic of f because of
// the '$' rule: a starts with a wildcard level, so it matches no topic
// starting with '$', while f's first level is a literal starting with '$',
// so every topic f matches does.
func dollarMismatch(a, f string) bool {
	return startsWithWildcard(a) && strings.HasPrefix(f, "$")
}

func startsWithWildcard(f string) bool {
	l, _, _ := nextLevel(f)
	return l == "+" || l == "#"
}

// nextLevel splits s at its first '/': the first level, the rest and
// whether there is a rest (a final "" level after a trailing '/' counts).
func nextLevel(s string) (level, rest string, more bool) {
	i := strings.IndexByte(s, '/')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}
