package cli

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"batchinfer/api"
	"batchinfer/client"
)

// Exit codes (README "Clients", `batchinfer help`).
const (
	exitOK = 0
	// exitError: anything below does not cover (a local file, a server
	// fault).
	exitError = 1
	// exitUsage: bad flags or arguments, or no gateway URL.
	exitUsage = 2
	// exitIncomplete: the job ended, but not every item succeeded (failed
	// or skipped items; a job cancelled, failed, past its deadline or
	// expired).
	exitIncomplete = 3
	// exitRefused: the gateway refused the request as it was (bad input,
	// unknown model, job or upload, a conflict, too large: a 4xx).
	exitRefused = 4
	// exitAuth: no credentials, wrong ones, or a role that may not (401,
	// 403).
	exitAuth = 5
	// exitUnavailable: the gateway could not be reached, or stayed busy or
	// at a limit past the retries (503, 429, 507, 504): try again later.
	exitUnavailable = 6
	// exitInterrupted: interrupted (Ctrl-C, SIGTERM).
	exitInterrupted = 130
)

const exitCodesHelp = `Exit codes:
  0    success (for run and watch: every item of the job succeeded)
  1    an error not listed below (a local file, a server fault)
  2    bad flags or arguments, or no gateway URL
  3    the job ended without every item succeeding (failed or skipped items;
       cancelled, failed, deadline_exceeded or expired): see its errors file
  4    the gateway refused the request (bad input, unknown model, job or
       upload, a conflict, too large: HTTP 4xx)
  5    credentials missing or refused, or the key's role may not (401, 403)
  6    the gateway could not be reached, or stayed busy or at a limit after
       the retries (503, 429, 507, 504): try again later
  130  interrupted`

// usageError is a mistake in the command line.
type usageError struct{ err error }

func (e *usageError) Error() string { return e.err.Error() }
func (e *usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error {
	return &usageError{err: fmt.Errorf(format, args...)}
}

// incompleteError: the job ended without every item succeeding.
type incompleteError struct{ st *api.JobStatus }

func (e *incompleteError) Error() string {
	s := e.st
	return fmt.Sprintf("job %s %s: %d of %d items succeeded, %d failed, %d skipped", s.ID, s.State, s.Done, s.Total, s.Failed, s.Skipped)
}

// exitCode is the exit code err stands for.
func exitCode(err error) int {
	var ue *usageError
	var ie *incompleteError
	var e *api.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ue):
		return exitUsage
	case errors.As(err, &ie):
		return exitIncomplete
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.As(err, &e):
		return apiExit(e)
	case client.Temporary(err):
		return exitUnavailable
	}
	return exitError
}

func apiExit(e *api.Error) int {
	switch {
	case e.Code == api.CodeUnauthorized || e.Code == api.CodeForbidden || e.Status == http.StatusUnauthorized || e.Status == http.StatusForbidden:
		return exitAuth
	case client.Temporary(e) || e.Code == api.CodeQuotaExceeded || e.Code == api.CodeInsufficientStorage || e.Code == api.CodeTimeout:
		return exitUnavailable
	case e.Status >= 400 && e.Status < 500:
		return exitRefused
	}
	return exitError
}
