package store

import "sync"

// recentRecords keeps, for each job this store last wrote, the record as
// written and its revision, so that the next update of the job (usually
// this worker counting its next chunk) is a compare-and-set at once,
// without reading the record first. The compare-and-set still guards it:
// a record someone else wrote since makes it fail, and the update reads
// the record as before. A job whose cached record proved stale is not
// cached for its next contendedSkip updates (several workers counting one
// job would otherwise pay a failed write each time).
type recentRecords struct {
	mu sync.Mutex
	m  map[string]recentRecord
}

type recentRecord struct {
	data []byte
	rev  uint64
	skip int // updates left that read first
}

const (
	// maxRecent bounds the records kept (about a kilobyte each).
	maxRecent = 1024
	// contendedSkip is how many updates of a job read first after its
	// cached record was stale.
	contendedSkip = 32
)

// take returns job's record as this store last wrote it, if it is kept
// and the job is not contended, and hands it out: a concurrent update of
// the same job reads the record instead.
func (c *recentRecords) take(job string) ([]byte, uint64, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[job]
	if !ok {
		return nil, 0, false
	}
	if e.skip > 0 {
		e.skip--
		c.m[job] = e
		return nil, 0, false
	}
	if e.data == nil {
		return nil, 0, false
	}
	c.m[job] = recentRecord{}
	return e.data, e.rev, true
}

// wrote keeps data, written as job's record at rev.
func (c *recentRecords) wrote(job string, data []byte, rev uint64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]recentRecord{}
	}
	e, ok := c.m[job]
	if !ok && len(c.m) >= maxRecent {
		for k := range c.m { // any one: a job not updated again soon reads first
			delete(c.m, k)
			break
		}
	}
	e.data, e.rev = data, rev
	c.m[job] = e
}

// stale notes that job's kept record was not the latest.
func (c *recentRecords) stale(job string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m != nil {
		c.m[job] = recentRecord{skip: contendedSkip}
	}
}

// forget drops what is kept of job.
func (c *recentRecords) forget(job string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, job)
}
