package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"sigs.k8s.io/yaml"
)

// The ScaledObject is checked against the CRD that KEDA itself publishes
// (config/crd/bases in the KEDA Go module), the schema the API server applies
// to it. The module is fetched with `go mod download` through the Go module
// proxy into the module cache, verified against the checksum below, and is
// never built or imported: importing KEDA's Go API types would drag its
// client-go and controller-runtime into this module (and they need a different
// Kubernetes minor than k8s.io/api here).
const (
	kedaModule  = "github.com/kedacore/keda/v2"
	kedaVersion = "v2.21.0"
	kedaSum     = "h1:R6z2HZvstK4RLUMxroNACzBj74xGxt3kG59b5Xc+Xps="
	kedaCRDFile = "config/crd/bases/keda.sh_scaledobjects.yaml"
)

type kedaSchema struct {
	schema *jsonschema.Schema
	err    error
}

type schemaError struct{ field, msg string }

var (
	kedaOnce   sync.Once
	kedaLoaded *kedaSchema
)

// loadKEDA returns the compiled ScaledObject schema, once per process.
// $KEDA_CRD names a local copy of keda.sh_scaledobjects.yaml instead
// (machines without the Go module proxy).
func loadKEDA() *kedaSchema {
	kedaOnce.Do(func() {
		kedaLoaded = &kedaSchema{}
		crd, err := readKEDACRD()
		if err == nil {
			kedaLoaded.schema, err = compileCRD(crd, "v1alpha1")
		}
		kedaLoaded.err = err
	})
	return kedaLoaded
}

func readKEDACRD() ([]byte, error) {
	if p := os.Getenv("KEDA_CRD"); p != "" {
		return os.ReadFile(p)
	}
	gobin, err := exec.LookPath("go")
	if err != nil {
		return nil, fmt.Errorf("no go command to fetch %s@%s (set KEDA_CRD to a copy of %s): %w", kedaModule, kedaVersion, kedaCRDFile, err)
	}
	cmd := exec.Command(gobin, "mod", "download", "-json", kedaModule+"@"+kedaVersion)
	// Outside this module, so that go.mod and go.sum stay as they are.
	cmd.Dir = os.TempDir()
	cmd.Env = append(os.Environ(), "GOFLAGS=", "GOWORK=off", "GO111MODULE=on")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, runErr := cmd.Output()
	var info struct{ Dir, Sum, Error string }
	if err := json.Unmarshal(out, &info); err != nil || runErr != nil || info.Error != "" {
		return nil, fmt.Errorf("go mod download %s@%s: %v %s %s (set KEDA_CRD to a copy of %s to work offline)",
			kedaModule, kedaVersion, runErr, info.Error, strings.TrimSpace(stderr.String()), kedaCRDFile)
	}
	if info.Sum != kedaSum {
		return nil, fmt.Errorf("%s@%s: checksum %s, want %s", kedaModule, kedaVersion, info.Sum, kedaSum)
	}
	return os.ReadFile(filepath.Join(info.Dir, kedaCRDFile))
}

// compileCRD turns the openAPIV3Schema of one version of a CRD into a JSON
// schema that, like the API server with strict field validation, rejects
// fields the schema does not declare: every object with `properties` and
// neither `additionalProperties` nor x-kubernetes-preserve-unknown-fields gets
// additionalProperties: false. (CEL rules, x-kubernetes-validations, are not
// evaluated.)
func compileCRD(crdYAML []byte, version string) (*jsonschema.Schema, error) {
	var crd struct {
		Spec struct {
			Versions []struct {
				Name   string `json:"name"`
				Schema struct {
					OpenAPIV3Schema map[string]any `json:"openAPIV3Schema"`
				} `json:"schema"`
			} `json:"versions"`
		} `json:"spec"`
	}
	if err := yaml.Unmarshal(crdYAML, &crd); err != nil {
		return nil, fmt.Errorf("KEDA CRD: %w", err)
	}
	var s map[string]any
	for _, v := range crd.Spec.Versions {
		if v.Name == version {
			s = v.Schema.OpenAPIV3Schema
		}
	}
	if s == nil {
		return nil, fmt.Errorf("KEDA CRD: no version %s", version)
	}
	closeObjects(s)
	b, err := json.Marshal(s)
	if err != nil {
		return nil, err
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	// OpenAPI 3.0 schemas are (close to) JSON Schema draft 4.
	c.DefaultDraft(jsonschema.Draft4)
	const url = "keda.sh/v1alpha1/scaledobject.json"
	if err := c.AddResource(url, doc); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

func closeObjects(v any) {
	switch n := v.(type) {
	case map[string]any:
		_, props := n["properties"]
		_, addl := n["additionalProperties"]
		preserve, _ := n["x-kubernetes-preserve-unknown-fields"].(bool)
		if props && !addl && !preserve {
			n["additionalProperties"] = false
		}
		for _, c := range n {
			closeObjects(c)
		}
	case []any:
		for _, c := range n {
			closeObjects(c)
		}
	}
}

// validate returns the schema violations of a ScaledObject, one per field.
func (k *kedaSchema) validate(objJSON []byte) []schemaError {
	if k.err != nil {
		return []schemaError{{"", "cannot check against the KEDA CRD: " + k.err.Error()}}
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(objJSON))
	if err != nil {
		return []schemaError{{"", err.Error()}}
	}
	err = k.schema.Validate(inst)
	if err == nil {
		return nil
	}
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return []schemaError{{"", err.Error()}}
	}
	var out []schemaError
	var walk func(u []jsonschema.OutputUnit)
	walk = func(us []jsonschema.OutputUnit) {
		for _, u := range us {
			if u.Error != nil {
				out = append(out, schemaError{pointerToPath(u.InstanceLocation), u.Error.String()})
			}
			walk(u.Errors)
		}
	}
	b := ve.BasicOutput()
	walk(b.Errors)
	if len(out) == 0 {
		out = append(out, schemaError{"", ve.Error()})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].field+out[i].msg < out[j].field+out[j].msg })
	// The same leaf can be reported through several paths.
	uniq := out[:0]
	for i, e := range out {
		if i == 0 || e != out[i-1] {
			uniq = append(uniq, e)
		}
	}
	return uniq
}

// pointerToPath turns /spec/triggers/0/type into spec.triggers[0].type.
func pointerToPath(p string) string {
	if p == "" || p == "/" {
		return ""
	}
	var b strings.Builder
	for _, part := range strings.Split(strings.TrimPrefix(p, "/"), "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if isIndex(part) {
			b.WriteString("[" + part + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(part)
	}
	return b.String()
}

func isIndex(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
