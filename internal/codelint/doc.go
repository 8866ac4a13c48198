// Package codelint holds the project's own code rules, checked by its
// tests in `make test`: every function fits on a screen (at most 60 lines)
// and stays simple (cyclomatic complexity at most 15), but for the input
// parsers, whose state machines read best whole.
package codelint
