// Package auth says who a request is: API keys (stored as SHA-256 hashes in
// a file that is reloaded when it changes) or, optionally, OIDC JWTs, give
// a Principal (tenant, key id, role, limits) that the use cases scope every
// job to; per-key request rates are enforced here too.
package auth

import (
	"bufio"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
)

// Role is what a principal may do beyond its own jobs.
type Role string

// Roles: users work with their tenant's jobs; operators may also read the
// cluster view and the metrics.
const (
	RoleUser     Role = "user"
	RoleOperator Role = "operator"
)

// Limits bound one key (Rate, Burst) and its tenant (the others); a zero
// field takes the gateway's default.
type Limits struct {
	Rate    float64 // requests per second (token bucket refill)
	Burst   int     // token bucket size
	Jobs    int     // batch jobs not yet finished
	Items   int     // cost of those jobs' items not yet done (an item costs 1, an image more: see input.Cost)
	Conns   int     // WebSocket connections per gateway
	Uploads int     // batch submissions being uploaded and decoded at once, per gateway
	Follows int     // jobs followed at once (subscriptions, NDJSON streams), per gateway
	// Results is the tenant's share of the results store, in bytes: what
	// its finished jobs hold until they expire and its unfinished ones
	// will store.
	Results int64
	// Weight is the tenant's share of the batch workers relative to other
	// tenants' (fair share; default 1).
	Weight float64
}

// MaxWeight bounds a tenant's fair-share weight.
const MaxWeight = 1000

// Key is one API key as the keys file holds it: never the key itself.
type Key struct {
	Tenant string
	ID     string // names the key in logs; default: the hash's first 12 digits
	Hash   [sha256.Size]byte
	Role   Role
	Limits Limits
	Line   int // the line of the keys file
}

// TenantPattern is what a tenant name may be (it names keys and subjects).
var TenantPattern = regexp.MustCompile(`^[A-Za-z0-9_-]{1,64}$`)

var idPattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)

// HashKey is the hex SHA-256 of a key, as the keys file stores it.
func HashKey(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}

// NewKey returns a fresh random key: "bik_" and 32 random bytes.
func NewKey() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // the system's randomness failed: nothing is safe
	}
	return "bik_" + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
}

// MaxJobsQuota is the most unfinished jobs a tenant may be allowed
// (jobs=): its reservations are kept in one record (store.Quotas).
const MaxJobsQuota = 4096

// PublicDevKey is the development key of deploy/secrets/api_keys.dev,
// published in the repository: a keys file that holds its hash is refused
// unless the gateway is told to allow it (a local trial).
const PublicDevKey = "bik_development_key_public_do_not_use_in_production"

// Parsed is a keys file read line by line.
type Parsed struct {
	Keys []Key     // the good lines' keys
	Bad  []BadLine // the other lines
}

// BadLine is a line of a keys file that gives no key.
type BadLine struct {
	Line int
	// Hash is the key hash the line names, when it has a readable one.
	Hash    [sha256.Size]byte
	HasHash bool
	Err     error
}

// Err is nil for a file without bad lines, else the bad lines' errors.
func (p Parsed) Err() error {
	errs := make([]error, 0, len(p.Bad))
	for _, b := range p.Bad {
		errs = append(errs, fmt.Errorf("keys file line %d: %w", b.Line, b.Err))
	}
	return errors.Join(errs...)
}

// ParseKeys reads a keys file: one key per line,
//
//	TENANT SHA256HEX [role=user|operator] [id=NAME] [rate=N] [burst=N] [jobs=N] [items=N] [conns=N] [uploads=N] [follows=N] [results=BYTES]
//
// with '#' starting a comment. Any malformed line is an error naming it
// (ReadKeys tells the good lines from the bad ones).
func ParseKeys(r io.Reader) ([]Key, error) {
	p, err := ReadKeys(r)
	if err != nil {
		return nil, err
	}
	if err := p.Err(); err != nil {
		return nil, err
	}
	return p.Keys, nil
}

// ReadKeys reads a keys file, keeping the good lines and naming the bad
// ones: malformed, a key already on an earlier line, or an id= already
// used (ids name keys in the logs and their request rates; each must be
// unique). The error is only that of reading.
func ReadKeys(r io.Reader) (Parsed, error) {
	var p Parsed
	hashes, ids := map[[sha256.Size]byte]bool{}, map[string]bool{}
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		k, err := parseKey(fields)
		switch {
		case err == nil && hashes[k.Hash]:
			err = errors.New("the same key twice")
		case err == nil && ids[k.ID]:
			err = fmt.Errorf("id %q twice: each key needs its own id=", k.ID)
		}
		if err != nil {
			b := BadLine{Line: n, Err: err}
			b.Hash, b.HasHash = lineHash(fields)
			p.Bad = append(p.Bad, b)
			continue
		}
		hashes[k.Hash], ids[k.ID] = true, true
		k.Line = n
		p.Keys = append(p.Keys, k)
	}
	if err := sc.Err(); err != nil {
		return Parsed{}, fmt.Errorf("read keys file: %w", err)
	}
	return p, nil
}

// lineHash reads the hash a line names, if it has one.
func lineHash(fields []string) ([sha256.Size]byte, bool) {
	var h [sha256.Size]byte
	if len(fields) < 2 {
		return h, false
	}
	b, err := hex.DecodeString(fields[1])
	if err != nil || len(b) != sha256.Size {
		return h, false
	}
	copy(h[:], b)
	return h, true
}

func parseKey(fields []string) (Key, error) {
	if len(fields) < 2 {
		return Key{}, fmt.Errorf("want TENANT SHA256HEX [settings]")
	}
	k := Key{Tenant: fields[0], Role: RoleUser}
	if !TenantPattern.MatchString(k.Tenant) {
		return Key{}, fmt.Errorf("tenant %q must match %s", k.Tenant, TenantPattern)
	}
	h, err := hex.DecodeString(fields[1])
	if err != nil || len(h) != sha256.Size {
		return Key{}, fmt.Errorf("%q is not a SHA-256 in hex (64 digits); hash a key with: printf %%s KEY | sha256sum", fields[1])
	}
	copy(k.Hash[:], h)
	k.ID = fields[1][:12]
	for _, f := range fields[2:] {
		if err := k.set(f); err != nil {
			return Key{}, err
		}
	}
	return k, nil
}

// setNumber applies rate= (requests per second), weight= (fair share) or
// results= (bytes of the results store).
func (k *Key) setNumber(name, v string) error {
	if name == "results" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n <= 0 {
			return fmt.Errorf("results %q: want a positive number of bytes", v)
		}
		k.Limits.Results = n
		return nil
	}
	f, err := strconv.ParseFloat(v, 64)
	if name == "weight" {
		if err != nil || f <= 0 || f > MaxWeight {
			return fmt.Errorf("weight %q: want a number in (0, %g]", v, float64(MaxWeight))
		}
		k.Limits.Weight = f
		return nil
	}
	if err != nil || f <= 0 {
		return fmt.Errorf("rate %q: want a positive number of requests per second", v)
	}
	k.Limits.Rate = f
	return nil
}

// set applies one name=value setting.
func (k *Key) set(f string) error {
	name, v, ok := strings.Cut(f, "=")
	if !ok {
		return fmt.Errorf("setting %q: want name=value", f)
	}
	switch name {
	case "role":
		if Role(v) != RoleUser && Role(v) != RoleOperator {
			return fmt.Errorf("role %q: want user or operator", v)
		}
		k.Role = Role(v)
		return nil
	case "id":
		if !idPattern.MatchString(v) {
			return fmt.Errorf("id %q must match %s", v, idPattern)
		}
		k.ID = v
		return nil
	case "rate", "weight", "results":
		return k.setNumber(name, v)
	}
	p := map[string]*int{"burst": &k.Limits.Burst, "jobs": &k.Limits.Jobs, "items": &k.Limits.Items, "conns": &k.Limits.Conns,
		"uploads": &k.Limits.Uploads, "follows": &k.Limits.Follows}[name]
	if p == nil {
		return fmt.Errorf("unknown setting %q (known: role, id, rate, weight, burst, jobs, items, conns, uploads, follows, results)", name)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s %q: want a positive integer", name, v)
	}
	if name == "jobs" && n > MaxJobsQuota {
		return fmt.Errorf("jobs %q: at most %d", v, MaxJobsQuota)
	}
	*p = n
	return nil
}
