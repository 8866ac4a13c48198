package main

import (
	"bytes"
	"fmt"
	"sort"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// Render builds the kustomization in dir in process, with kustomize's default
// options (the same load restrictions as `kubectl apply -k`: files only from
// inside each kustomization's own directory).
func Render(dir string) (resmap.ResMap, error) {
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	return k.Run(filesys.MakeFsOnDisk(), dir)
}

// RenderYAML is Render as one multi-document YAML stream, what
// `kubectl kustomize dir` prints.
func RenderYAML(dir string) ([]byte, error) {
	m, err := Render(dir)
	if err != nil {
		return nil, err
	}
	return m.AsYaml()
}

// Object is one rendered resource: its identity, its JSON and, once decoded,
// its Go value (a k8s.io/api type, or *ScaledObject).
type Object struct {
	APIVersion string
	Kind       string
	Name       string
	Namespace  string
	JSON       []byte
	Typed      any
}

// ID names the object in findings: "Deployment batchinfer/gateway".
func (o *Object) ID() string {
	if o.Namespace == "" {
		return o.Kind + " " + o.Name
	}
	return o.Kind + " " + o.Namespace + "/" + o.Name
}

// Objects renders dir and converts every resource to JSON, in kustomize's
// output order.
func Objects(dir string) ([]*Object, error) {
	m, err := Render(dir)
	if err != nil {
		return nil, fmt.Errorf("kustomize build %s: %w", dir, err)
	}
	var out []*Object
	for _, r := range m.Resources() {
		y, err := r.AsYAML()
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		// Strict: a duplicate key is an error, not "last one wins".
		j, err := yaml.YAMLToJSONStrict(y)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", r.CurId(), err)
		}
		gvk := r.GetGvk()
		av := gvk.Version
		if gvk.Group != "" {
			av = gvk.Group + "/" + gvk.Version
		}
		out = append(out, &Object{APIVersion: av, Kind: gvk.Kind, Name: r.GetName(), Namespace: r.GetNamespace(), JSON: j})
	}
	return out, nil
}

// Finding is one violation: the overlay, the object, the field path, what is
// wrong.
type Finding struct {
	Overlay string
	Object  string
	Field   string
	Msg     string
}

func (f Finding) String() string {
	var b bytes.Buffer
	b.WriteString(f.Overlay)
	b.WriteString(": ")
	if f.Object != "" {
		b.WriteString(f.Object)
		b.WriteString(": ")
	}
	if f.Field != "" {
		b.WriteString(f.Field)
		b.WriteString(": ")
	}
	b.WriteString(f.Msg)
	return b.String()
}

// Findings collects the violations of one overlay.
type Findings struct {
	Overlay string
	List    []Finding
}

func (fs *Findings) add(o *Object, field, format string, args ...any) {
	id := ""
	if o != nil {
		id = o.ID()
	}
	fs.List = append(fs.List, Finding{Overlay: fs.Overlay, Object: id, Field: field, Msg: fmt.Sprintf(format, args...)})
}

// Strings returns the findings, sorted.
func (fs *Findings) Strings() []string {
	var s []string
	for _, f := range fs.List {
		s = append(s, f.String())
	}
	sort.Strings(s)
	return s
}

func (fs *Findings) String() string { return strings.Join(fs.Strings(), "\n") }
