package service

import (
	"crypto/rand"
	"encoding/binary"
	"strings"
	"sync"
	"time"
)

const jobIDAlphabet = "0123456789abcdefghjkmnpqrstvwxyz"

// Random part of an id: 12 base-32 digits (60 bits); a later id in the
// same millisecond adds a random step of up to 2^40 to it.
const (
	randBits = 60
	stepBits = 40
)

// ids makes job ids that sort by creation within this process, even
// several in one millisecond, and that cannot be guessed from another: the
// random part of the first id of a millisecond is drawn whole, and each
// later one in the same millisecond adds a random step to it (ULID-style
// monotonic, but never the previous id plus one).
var ids struct {
	sync.Mutex
	ms  uint64
	rnd uint64 // randBits bits
}

// newJobID returns "j" + 10 characters of millisecond time (so ids sort by
// creation) + 12 random characters.
func newJobID() string {
	ids.Lock()
	defer ids.Unlock()
	if ms := uint64(time.Now().UnixMilli()); ms > ids.ms {
		ids.ms, ids.rnd = ms, randomBits(randBits)
	} else if next := ids.rnd + 1 + randomBits(stepBits); next < 1<<randBits {
		ids.rnd = next
	} else { // the random part would overflow: borrow the next millisecond
		ids.ms++
		ids.rnd = randomBits(randBits - 1) // leaves room for steps after it
	}
	var b [23]byte
	b[0] = 'j'
	t := ids.ms
	for i := 10; i >= 1; i-- {
		b[i] = jobIDAlphabet[t&31]
		t >>= 5
	}
	r := ids.rnd
	for i := 22; i >= 11; i-- {
		b[i] = jobIDAlphabet[r&31]
		r >>= 5
	}
	return string(b[:])
}

// randomBits is a uniformly random number below 2^n (n <= 64).
func randomBits(n uint) uint64 {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system's randomness failed: nothing is safe
	}
	return binary.LittleEndian.Uint64(b[:]) >> (64 - n)
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
