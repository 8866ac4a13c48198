package service

import (
	"slices"
	"strings"

	"batchinfer/api"
	"batchinfer/internal/wire"
	"batchinfer/model"
)

// ListStates are the job states a listing may filter on: every JobState of
// api/openapi.yaml (a state this server does not produce matches nothing).
var ListStates = []string{
	wire.StateQueued, wire.StateRunning, wire.StateCompleted, wire.StateCancelled,
	"failed", "expired", "deadline_exceeded",
}

// JobQuery selects a page of the caller's jobs.
type JobQuery struct {
	Limit int
	// Cursor is the NextCursor of the previous page; empty: the newest jobs.
	Cursor string
	// Model is a name, or name:version; empty: every model.
	Model string
	// States keeps jobs in any of these states; empty: every state.
	States []string
}

// JobPage is a page of the caller's jobs, the most recent first.
type JobPage struct {
	Jobs []wire.JobStatus
	// NextCursor continues the listing; empty when no job is left.
	NextCursor string
	// Total is the number of the tenant's jobs for a query without
	// filters, -1 with filters (counting them would read every record).
	Total int
}

func (q JobQuery) filtered() bool { return q.Model != "" || len(q.States) > 0 }

// matches reports whether a job passes the query's filters.
func (q JobQuery) matches(st wire.JobStatus) bool {
	if q.Model != "" && q.Model != st.Model && q.Model != st.Model+":"+st.Version {
		return false
	}
	return len(q.States) == 0 || slices.Contains(q.States, st.State)
}

// checkJobQuery names the first parameter out of range.
func (s *Service) checkJobQuery(q JobQuery) error {
	if q.Limit < 1 || q.Limit > s.cfg.MaxJobsListed {
		return api.Errorf(api.CodeBadRequest, "limit must be an integer in [1, %d]", s.cfg.MaxJobsListed)
	}
	if q.Cursor != "" && !validJobID(q.Cursor) {
		return api.Errorf(api.CodeBadRequest, "cursor %q is not a next_cursor of this listing", q.Cursor)
	}
	if q.Model != "" {
		name, version, hasVersion := strings.Cut(q.Model, ":")
		if !model.ValidName(name) || (hasVersion && !model.ValidName(version)) {
			return api.Errorf(api.CodeBadRequest, "model %q must be a model name or name:version", q.Model)
		}
	}
	for _, st := range q.States {
		if !slices.Contains(ListStates, st) {
			return api.Errorf(api.CodeBadRequest, "state %q is not one of %s", st, strings.Join(ListStates, ", "))
		}
	}
	return nil
}
