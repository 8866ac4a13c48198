// Command k8s is one binary for the Kubernetes control plane that
// scripts/k8s-test.sh runs: kube-apiserver, kube-controller-manager,
// kube-scheduler, kubectl, kwok and metrics-server. The first argument (or the name the
// binary is called by) picks the program; the rest are its own flags.
// Linking them together compiles and links the packages they share once.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// programs maps a subcommand to its entry point, which returns the exit code.
var programs = map[string]func(args []string) int{
	"kube-apiserver":          runAPIServer,
	"kube-controller-manager": runControllerManager,
	"kube-scheduler":          runScheduler,
	"kubectl":                 runKubectl,
	"kwok":                    runKwok,
	"metrics-server":          runMetricsServer,
	"version":                 runVersion,
}

func main() {
	os.Exit(dispatch(os.Args))
}

// dispatch picks the program by the binary's name (a link named kubectl) or
// by the first argument (k8s kubectl get pods), and rewrites os.Args so the
// program sees its usual command line.
func dispatch(argv []string) int {
	name := filepath.Base(argv[0])
	args := argv[1:]
	if _, ok := programs[name]; !ok {
		if len(args) == 0 {
			usage()
			return 2
		}
		name, args = args[0], args[1:]
	}
	run, ok := programs[name]
	if !ok {
		usage()
		return 2
	}
	os.Args = append([]string{name}, args...)
	return run(args)
}

func usage() {
	names := make([]string, 0, len(programs))
	for n := range programs {
		names = append(names, n)
	}
	fmt.Fprintf(os.Stderr, "usage: k8s {%s} [flags]\n", strings.Join(sorted(names), "|"))
}

func sorted(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}
