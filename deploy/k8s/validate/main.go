// Command validate renders the kustomize overlays of deploy/k8s in process and
// checks offline what an API server cannot: the NATS configuration through
// nats-server's own parser, the project's policies (security context beyond
// Pod Security, resources, probes, pinned images) and the consistency between
// objects (selectors, NATS routes and clients, secrets, autoscaling, the
// frontend's nginx configuration). What an API server checks (field names,
// schemas, Pod Security admission) make test-k8s checks on a real one (see
// deploy/k8s/cluster). See deploy/k8s/README.md.
//
//	go run . render DIR          print the rendered overlay (kubectl kustomize DIR)
//	go run . check [DIR...]      check overlays (default: every ../overlays/*)
//
// `go test` (make test-k8s) checks every overlay and the rejected fixtures
// under testdata/.
package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "validate:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: validate render DIR | validate check [DIR...]")
	}
	switch args[0] {
	case "render":
		if len(args) != 2 {
			return fmt.Errorf("usage: validate render DIR")
		}
		y, err := RenderYAML(args[1])
		if err != nil {
			return err
		}
		_, err = os.Stdout.Write(y)
		return err
	case "check":
		dirs := args[1:]
		root, err := FindRepo(".")
		if err != nil && len(dirs) > 0 {
			root, err = FindRepo(dirs[0])
		}
		if err != nil {
			return err
		}
		repo, err := LoadRepo(root)
		if err != nil {
			return err
		}
		committed := false
		if len(dirs) == 0 {
			dirs, committed = Overlays(root), true
		}
		bad := 0
		for _, d := range dirs {
			fs := CheckDir(d, filepath.Base(d), repo, Options{CommittedSecrets: committed})
			for _, s := range fs.Strings() {
				fmt.Println(s)
			}
			if len(fs.List) == 0 {
				fmt.Printf("%s: ok\n", d)
			}
			bad += len(fs.List)
		}
		if bad > 0 {
			return fmt.Errorf("%d findings", bad)
		}
		return nil
	}
	return fmt.Errorf("unknown command %q", args[0])
}

// Overlays lists deploy/k8s/overlays/*.
func Overlays(root string) []string {
	ds, _ := filepath.Glob(filepath.Join(root, "deploy", "k8s", "overlays", "*", "kustomization.yaml"))
	var out []string
	for _, d := range ds {
		out = append(out, filepath.Dir(d))
	}
	sort.Strings(out)
	return out
}
