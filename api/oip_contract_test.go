package api

import (
	"os"
	"reflect"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v2"
)

// openAPISchema is what the contract tests read of a schema in openapi.yaml.
type openAPISchema struct {
	Required   []string                 `yaml:"required"`
	Properties map[string]openAPISchema `yaml:"properties"`
}

func openAPISchemas(t *testing.T) map[string]openAPISchema {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Components struct {
			Schemas map[string]openAPISchema `yaml:"schemas"`
		} `yaml:"components"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	return doc.Components.Schemas
}

// The Open Inference Protocol bodies in Go have exactly the properties
// and the required fields (those without omitempty) of their schemas in
// openapi.yaml, from which the TypeScript types are generated.
func TestOIPTypesMatchOpenAPI(t *testing.T) {
	schemas := openAPISchemas(t)
	for name, v := range map[string]any{
		"OIPError": OIPError{}, "OIPServerMetadata": OIPServerMetadata{}, "OIPLive": OIPLive{}, "OIPReady": OIPReady{},
		"OIPModelReady": OIPModelReady{}, "OIPTensorMetadata": OIPTensorMetadata{}, "OIPModelMetadata": OIPModelMetadata{},
		"OIPInferRequest": OIPInferRequest{}, "OIPRequestInput": OIPRequestInput{}, "OIPRequestOutput": OIPRequestOutput{},
		"OIPInferResponse": OIPInferResponse{}, "OIPResponseOutput": OIPResponseOutput{},
		"OIPResponseOutput.parameters": OIPOutputParameters{},
	} {
		s, ok := schemas[name]
		if parent, prop, nested := strings.Cut(name, "."); nested {
			s, ok = schemas[parent].Properties[prop]
		}
		if !ok {
			t.Errorf("openapi.yaml has no schema %s", name)
			continue
		}
		all, required := jsonFields(reflect.TypeOf(v))
		var props []string
		for p := range s.Properties {
			props = append(props, p)
		}
		if !slices.Equal(sorted(all), sorted(props)) {
			t.Errorf("%s: Go has properties %v, openapi.yaml %v", name, sorted(all), sorted(props))
		}
		if !slices.Equal(sorted(required), sorted(s.Required)) {
			t.Errorf("%s: Go requires %v, openapi.yaml %v", name, sorted(required), sorted(s.Required))
		}
	}
}
