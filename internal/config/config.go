// Package config reads service settings from flags and environment
// variables (a flag wins over its variable, which wins over the default) and
// prints them at start with secrets masked.
package config

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"
)

// Set is a group of settings of one command.
type Set struct {
	fs      *flag.FlagSet
	entries []*entry
	errs    []error
}

type entry struct {
	name, env, usage, def string
	secret                bool
	value                 flag.Value
}

// New returns an empty set for command name.
func New(name string) *Set {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	return &Set{fs: fs}
}

func (s *Set) add(v flag.Value, name, env, usage string, secret bool) {
	e := &entry{name: name, env: env, usage: usage, def: v.String(), secret: secret, value: v}
	if env != "" && secret {
		// Docker and Swarm secrets arrive as files: $NAME_FILE.
		if path := os.Getenv(env + "_FILE"); path != "" {
			b, err := os.ReadFile(path)
			if err != nil {
				s.errs = append(s.errs, fmt.Errorf("$%s_FILE: %w", env, err))
			} else if err := v.Set(strings.TrimSpace(string(b))); err != nil {
				s.errs = append(s.errs, err)
			}
		}
	}
	if env != "" {
		if ev, ok := os.LookupEnv(env); ok {
			if err := v.Set(ev); err != nil {
				s.errs = append(s.errs, fmt.Errorf("$%s: %w", env, err))
			}
		}
	}
	help := usage
	if env != "" {
		help += " ($" + env + ")"
	}
	if secret {
		help += " (or a file in $" + env + "_FILE)"
	}
	s.fs.Var(v, name, help)
	s.entries = append(s.entries, e)
}

// String registers a string setting.
func (s *Set) String(p *string, name, env, def, usage string) {
	*p = def
	s.add((*strValue)(p), name, env, usage, false)
}

// Secret registers a string setting that is masked when printed.
func (s *Set) Secret(p *string, name, env, usage string) {
	s.add((*strValue)(p), name, env, usage, true)
}

// Int registers an int setting.
func (s *Set) Int(p *int, name, env string, def int, usage string) {
	*p = def
	s.add((*intValue)(p), name, env, usage, false)
}

// Int64 registers an int64 setting.
func (s *Set) Int64(p *int64, name, env string, def int64, usage string) {
	*p = def
	s.add((*int64Value)(p), name, env, usage, false)
}

// Float registers a float64 setting.
func (s *Set) Float(p *float64, name, env string, def float64, usage string) {
	*p = def
	s.add((*floatValue)(p), name, env, usage, false)
}

// Duration registers a duration setting.
func (s *Set) Duration(p *time.Duration, name, env string, def time.Duration, usage string) {
	*p = def
	s.add((*durValue)(p), name, env, usage, false)
}

// Bool registers a boolean setting: -name alone or -name=true, NAME=true
// or 1.
func (s *Set) Bool(p *bool, name, env string, def bool, usage string) {
	*p = def
	s.add((*boolValue)(p), name, env, usage, false)
}

// List registers a comma-separated list setting.
func (s *Set) List(p *[]string, name, env string, def []string, usage string) {
	*p = def
	s.add((*listValue)(p), name, env, usage, false)
}

// Parse applies args over the environment.
func (s *Set) Parse(args []string) error {
	s.fs.SetOutput(io.Discard)
	if err := s.fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			s.fs.SetOutput(os.Stdout)
			s.fs.PrintDefaults()
		}
		return err
	}
	if len(s.errs) > 0 {
		return s.errs[0]
	}
	return nil
}

// Args are the arguments left after the flags.
func (s *Set) Args() []string { return s.fs.Args() }

// Log writes every setting to ev, secrets masked.
func (s *Set) Log(ev *zerolog.Event) *zerolog.Event {
	d := zerolog.Dict()
	for _, e := range s.entries {
		v := e.value.String()
		if e.secret && v != "" {
			v = "*****"
		}
		d = d.Str(e.name, v)
	}
	return ev.Dict("config", d)
}

// Markdown renders the settings as a table for the README.
func (s *Set) Markdown() string {
	var b strings.Builder
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for _, e := range s.entries {
		def := e.def
		if def == "" {
			def = "—"
		}
		fmt.Fprintf(&b, "| `-%s` | `%s` | `%s` | %s |\n", e.name, e.env, def, e.usage)
	}
	return b.String()
}

type strValue string

type boolValue bool

func (v *boolValue) String() string   { return strconv.FormatBool(bool(*v)) }
func (v *boolValue) IsBoolFlag() bool { return true }
func (v *boolValue) Set(s string) error {
	if s == "" {
		*v = false
		return nil
	}
	b, err := strconv.ParseBool(s)
	if err != nil {
		return fmt.Errorf("%q is not true or false", s)
	}
	*v = boolValue(b)
	return nil
}

func (v *strValue) String() string     { return string(*v) }
func (v *strValue) Set(s string) error { *v = strValue(s); return nil }

type intValue int

func (v *intValue) String() string { return strconv.Itoa(int(*v)) }
func (v *intValue) Set(s string) error {
	n, err := strconv.Atoi(s)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = intValue(n)
	return nil
}

type int64Value int64

func (v *int64Value) String() string { return strconv.FormatInt(int64(*v), 10) }
func (v *int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("%q is not an integer", s)
	}
	*v = int64Value(n)
	return nil
}

type floatValue float64

func (v *floatValue) String() string { return strconv.FormatFloat(float64(*v), 'g', -1, 64) }
func (v *floatValue) Set(s string) error {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return fmt.Errorf("%q is not a number", s)
	}
	*v = floatValue(f)
	return nil
}

type durValue time.Duration

func (v *durValue) String() string { return time.Duration(*v).String() }
func (v *durValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	if err != nil {
		return fmt.Errorf("%q is not a duration", s)
	}
	*v = durValue(d)
	return nil
}

type listValue []string

func (v *listValue) String() string { return strings.Join(*v, ",") }
func (v *listValue) Set(s string) error {
	*v = nil
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			*v = append(*v, p)
		}
	}
	return nil
}

// Logger returns the JSON logger every command uses, at $LOG_LEVEL (info).
func Logger(service string) zerolog.Logger {
	zerolog.TimeFieldFormat = time.RFC3339Nano
	lvl, err := zerolog.ParseLevel(os.Getenv("LOG_LEVEL"))
	if err != nil || os.Getenv("LOG_LEVEL") == "" {
		lvl = zerolog.InfoLevel
	}
	return zerolog.New(os.Stderr).Level(lvl).With().Timestamp().Str("service", service).Logger()
}
