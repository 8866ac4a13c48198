package service

import (
	"crypto/rand"
	"strings"
	"sync"
	"time"
)

const jobIDAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// ids makes job ids that sort by creation within this process, even
// several in one millisecond (ULID-style: the random part of a second id in
// the same millisecond is the first one's plus one).
var ids struct {
	sync.Mutex
	ms  uint64
	rnd [12]byte // base-32 digits
}

// newJobID returns "j" + 10 characters of millisecond time (so ids sort by
// creation) + 12 random characters.
func newJobID() string {
	ids.Lock()
	defer ids.Unlock()
	if ms := uint64(time.Now().UnixMilli()); ms > ids.ms {
		ids.ms = ms
		_, _ = rand.Read(ids.rnd[:])
		for i := range ids.rnd {
			ids.rnd[i] &= 31
		}
	} else if !incrementDigits(ids.rnd[:]) {
		ids.ms++ // the random part overflowed: borrow the next millisecond
	}
	var b [23]byte
	b[0] = 'j'
	t := ids.ms
	for i := 10; i >= 1; i-- {
		b[i] = jobIDAlphabet[t&31]
		t >>= 5
	}
	for i, r := range ids.rnd {
		b[11+i] = jobIDAlphabet[r]
	}
	return string(b[:])
}

// incrementDigits adds one to base-32 digits d; false when it wrapped.
func incrementDigits(d []byte) bool {
	for i := len(d) - 1; i >= 0; i-- {
		if d[i] < 31 {
			d[i]++
			return true
		}
		d[i] = 0
	}
	return false
}

// validJobID reports whether id has the form newJobID gives: anything else
// is an unknown job, never a key, a subject or a path.
func validJobID(id string) bool {
	if len(id) != 23 || id[0] != 'j' {
		return false
	}
	for i := 1; i < len(id); i++ {
		if !strings.ContainsRune(jobIDAlphabet, rune(id[i])) {
			return false
		}
	}
	return true
}
