package broker

import (
	"strings"
	"sync"

	"github.com/mqttspec/mqttspec/reference/packet"
)

// subscription is one entry of a session's subscriptions.
type subscription struct {
	session *session
	filter  string // without the $share/ prefix
	share   string // share name, "" for a normal subscription
	opts    packet.Subscription
	id      int // subscription identifier, 0 when none
}

// subNode is one level of the topic-filter tree.
type subNode struct {
	children map[string]*subNode
	// subs holds normal subscriptions by client identifier: a session has at
	// most one subscription per filter [MQTT-3.8.4-3].
	subs map[string]*subscription
	// shared holds shared subscriptions by share name, then client id.
	shared map[string]*shareGroup
}

type shareGroup struct {
	members []*subscription // in join order; next picks round-robin
	next    int
}

// subTree stores every subscription, indexed by filter levels, so a publish
// visits only the branches its topic can match.
type subTree struct {
	mu   sync.RWMutex
	root subNode
	n    int
}

func newNode() *subNode { return &subNode{} }

// add inserts or replaces sub; it reports whether a subscription with the
// same filter (and share name) existed for the session.
func (t *subTree) add(sub *subscription) (existed bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := &t.root
	for _, level := range strings.Split(sub.filter, "/") {
		if n.children == nil {
			n.children = map[string]*subNode{}
		}
		c := n.children[level]
		if c == nil {
			c = newNode()
			n.children[level] = c
		}
		n = c
	}
	id := sub.session.id
	if sub.share == "" {
		if n.subs == nil {
			n.subs = map[string]*subscription{}
		}
		_, existed = n.subs[id]
		n.subs[id] = sub
	} else {
		if n.shared == nil {
			n.shared = map[string]*shareGroup{}
		}
		g := n.shared[sub.share]
		if g == nil {
			g = &shareGroup{}
			n.shared[sub.share] = g
		}
		for i, m := range g.members {
			if m.session.id == id {
				g.members[i] = sub
				return true
			}
		}
		g.members = append(g.members, sub)
	}
	if !existed {
		t.n++
	}
	return existed
}

// remove deletes the session's subscription to filter (share "" for a
// normal one) and reports whether it existed.
func (t *subTree) remove(clientID, filter, share string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	levels := strings.Split(filter, "/")
	path := make([]*subNode, 0, len(levels)+1)
	n := &t.root
	path = append(path, n)
	for _, level := range levels {
		c := n.children[level]
		if c == nil {
			return false
		}
		n = c
		path = append(path, n)
	}
	found := false
	if share == "" {
		if _, found = n.subs[clientID]; found {
			delete(n.subs, clientID)
		}
	} else if g := n.shared[share]; g != nil {
		for i, m := range g.members {
			if m.session.id == clientID {
				g.members = append(g.members[:i], g.members[i+1:]...)
				found = true
				break
			}
		}
		if len(g.members) == 0 {
			delete(n.shared, share)
		}
	}
	if !found {
		return false
	}
	t.n--
	// Prune empty branches so a churn of unique filters does not leak.
	for i := len(path) - 1; i > 0; i-- {
		node := path[i]
		if len(node.subs) > 0 || len(node.shared) > 0 || len(node.children) > 0 {
			break
		}
		delete(path[i-1].children, levels[i-1])
	}
	return true
}

// match calls normal for every normal subscription whose filter matches
// topic and picks one member of every matching share group (round robin,
// preferring members whose session is connected).
func (t *subTree) match(topic string, normal func(*subscription), shared func(*subscription)) {
	t.mu.Lock() // share groups advance their round-robin cursor
	defer t.mu.Unlock()
	levels := strings.Split(topic, "/")
	// Filters starting with a wildcard do not match topics starting with $
	// [MQTT-4.7.2-1].
	dollar := strings.HasPrefix(topic, "$")
	matchNode(&t.root, levels, 0, dollar, normal, shared)
}

func matchNode(n *subNode, levels []string, i int, dollar bool, normal, shared func(*subscription)) {
	if i == len(levels) {
		visit(n, normal, shared)
		// "a/#" also matches "a".
		if c := n.children["#"]; c != nil {
			visit(c, normal, shared)
		}
		return
	}
	wild := !(dollar && i == 0)
	if wild {
		if c := n.children["#"]; c != nil {
			visit(c, normal, shared)
		}
		if c := n.children["+"]; c != nil {
			matchNode(c, levels, i+1, dollar, normal, shared)
		}
	}
	if c := n.children[levels[i]]; c != nil {
		matchNode(c, levels, i+1, dollar, normal, shared)
	}
}

func visit(n *subNode, normal, shared func(*subscription)) {
	for _, s := range n.subs {
		normal(s)
	}
	for _, g := range n.shared {
		if len(g.members) == 0 {
			continue
		}
		pick := -1
		for k := 0; k < len(g.members); k++ {
			j := (g.next + k) % len(g.members)
			if g.members[j].session.online() {
				pick = j
				break
			}
		}
		if pick < 0 {
			pick = g.next % len(g.members)
		}
		g.next = pick + 1
		shared(g.members[pick])
	}
}

func (t *subTree) count() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.n
}
