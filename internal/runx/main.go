package runx

import (
	"errors"
	"flag"
	"fmt"
	"os"
)

// Main runs a command's run function with its arguments and exits 1 with
// "name: error" on stderr when it fails; -h (flag.ErrHelp) is no failure.
func Main(name string, run func(args []string) error) {
	if err := run(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, name+":", err)
		os.Exit(1)
	}
}

// Subcommand reports whether args start with the subcommand name, and
// returns the arguments after it (all of args when they do not).
func Subcommand(args []string, name string) (bool, []string) {
	if len(args) > 0 && args[0] == name {
		return true, args[1:]
	}
	return false, args
}

// HealthcheckAt is Healthcheck of path on the server listening on addr
// (HealthURL): the `healthcheck` subcommand of the services.
func HealthcheckAt(addr, path string) error {
	url, err := HealthURL(addr, path)
	if err != nil {
		return err
	}
	return Healthcheck(url)
}
