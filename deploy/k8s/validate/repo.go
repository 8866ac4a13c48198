package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Repo is what the checks compare the manifests with: the project's own
// files.
type Repo struct {
	Root string
	// Version is the VERSION file: the tag of the project's images.
	Version string
	// Models are the <name>/<version> directories of model/models that the
	// worker image carries (the Dockerfile copies model/models; .dockerignore
	// leaves the benchmark-only *_bench out).
	Models []Model
	// NATSImage is the NATS image of compose.yaml: the server version the Go
	// code embeds and tests against.
	NATSImage string
	// Nginx is frontend/nginx/default.conf.
	Nginx []byte
}

// Model is one servable model version.
type Model struct{ Name, Version string }

// FindRepo walks up from dir to the repository root (the directory holding
// VERSION and deploy/k8s).
func FindRepo(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		if fileExists(filepath.Join(d, "VERSION")) && fileExists(filepath.Join(d, "deploy", "k8s")) {
			return d, nil
		}
		p := filepath.Dir(d)
		if p == d {
			return "", fmt.Errorf("no repository root (VERSION, deploy/k8s) above %s", dir)
		}
		d = p
	}
}

func fileExists(p string) bool { _, err := os.Stat(p); return err == nil }

// LoadRepo reads the project files the checks need.
func LoadRepo(root string) (*Repo, error) {
	r := &Repo{Root: root}
	v, err := os.ReadFile(filepath.Join(root, "VERSION"))
	if err != nil {
		return nil, err
	}
	r.Version = strings.TrimSpace(string(v))
	metas, _ := filepath.Glob(filepath.Join(root, "model", "models", "*", "*", "metadata.json"))
	for _, p := range metas {
		var m struct{ Name, Version string }
		b, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		if strings.HasSuffix(m.Name, "_bench") {
			continue
		}
		r.Models = append(r.Models, Model{m.Name, m.Version})
	}
	if len(r.Models) == 0 {
		return nil, fmt.Errorf("no model/models/*/*/metadata.json under %s", root)
	}
	sort.Slice(r.Models, func(i, j int) bool {
		return r.Models[i].Name+"/"+r.Models[i].Version < r.Models[j].Name+"/"+r.Models[j].Version
	})
	compose, err := os.ReadFile(filepath.Join(root, "compose.yaml"))
	if err != nil {
		return nil, err
	}
	if m := regexp.MustCompile(`(?m)^\s*image:\s*["']?(nats:[^"'\s]+)`).FindSubmatch(compose); m != nil {
		r.NATSImage = string(m[1])
	} else {
		return nil, fmt.Errorf("compose.yaml names no nats image")
	}
	if r.Nginx, err = os.ReadFile(filepath.Join(root, "frontend", "nginx", "default.conf")); err != nil {
		return nil, err
	}
	return r, nil
}
