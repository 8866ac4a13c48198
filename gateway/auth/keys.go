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

// Limits bound one key (Rate, Burst) and its tenant (Jobs, Items, Conns);
// a zero field takes the gateway's default.
type Limits struct {
	Rate  float64 // requests per second (token bucket refill)
	Burst int     // token bucket size
	Jobs  int     // batch jobs not yet finished
	Items int     // items of those jobs not yet done
	Conns int     // WebSocket connections per gateway
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

// ParseKeys reads a keys file: one key per line,
//
//	TENANT SHA256HEX [role=user|operator] [id=NAME] [rate=N] [burst=N] [jobs=N] [items=N] [conns=N]
//
// with '#' starting a comment. Any malformed line is an error naming it:
// a keys file is never half-loaded.
func ParseKeys(r io.Reader) ([]Key, error) {
	var keys []Key
	sc := bufio.NewScanner(r)
	for n := 1; sc.Scan(); n++ {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		k, err := parseKey(fields)
		if err != nil {
			return nil, fmt.Errorf("keys file line %d: %w", n, err)
		}
		for _, prev := range keys {
			if prev.Hash == k.Hash {
				return nil, fmt.Errorf("keys file line %d: the same key twice", n)
			}
		}
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read keys file: %w", err)
	}
	return keys, nil
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

// setFloat applies rate= (requests per second) or weight= (fair share).
func (k *Key) setFloat(name, v string) error {
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
	case "rate", "weight":
		return k.setFloat(name, v)
	}
	p := map[string]*int{"burst": &k.Limits.Burst, "jobs": &k.Limits.Jobs, "items": &k.Limits.Items, "conns": &k.Limits.Conns}[name]
	if p == nil {
		return fmt.Errorf("unknown setting %q (known: role, id, rate, weight, burst, jobs, items, conns)", name)
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		return fmt.Errorf("%s %q: want a positive integer", name, v)
	}
	*p = n
	return nil
}
