package api

import (
	"encoding/json"
	"os"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"batchinfer/internal/wire"
	"batchinfer/model"
)

// The Go types and the documents of the contract cannot drift apart: every
// WebSocket message struct has exactly the properties, required fields and
// type of its definition in websocket.schema.json, and the error codes are
// those openapi.yaml lists.

type schemaDef struct {
	Required             []string                   `json:"required"`
	AdditionalProperties *bool                      `json:"additionalProperties"`
	Properties           map[string]json.RawMessage `json:"properties"`
	OneOf                []struct {
		Ref string `json:"$ref"`
	} `json:"oneOf"`
}

type schema struct {
	Defs map[string]schemaDef `json:"$defs"`
}

// messages maps each schema definition to its Go struct.
var messages = map[string]any{
	"Subscribe": Subscribe{}, "Unsubscribe": Unsubscribe{}, "Submit": Submit{}, "Predict": Predict{}, "Ping": Ping{},
	"Hello": Hello{}, "Subscribed": Subscribed{}, "Unsubscribed": Unsubscribed{}, "Results": Results{},
	"Progress": Progress{}, "End": End{}, "Accepted": Accepted{}, "Prediction": Prediction{}, "Error": ErrorMessage{},
	"Heartbeat": Heartbeat{}, "Pong": Pong{}, "Auth": Auth{}, "Authenticated": Authenticated{},
}

var clientMessages = []string{"Subscribe", "Unsubscribe", "Submit", "Predict", "Ping", "Auth"}

func loadSchema(t *testing.T) schema {
	t.Helper()
	b, err := os.ReadFile("websocket.schema.json")
	if err != nil {
		t.Fatal(err)
	}
	var s schema
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// jsonFields lists t's JSON properties (embedded structs flattened) and
// which are required (no omitempty).
func jsonFields(t reflect.Type) (all, required []string) {
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if f.Anonymous && f.Type.Kind() == reflect.Struct {
			a, r := jsonFields(f.Type)
			all, required = append(all, a...), append(required, r...)
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		all = append(all, name)
		if !strings.Contains(opts, "omitempty") {
			required = append(required, name)
		}
	}
	return all, required
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	sort.Strings(s)
	return s
}

func TestWebSocketMessagesMatchTheSchema(t *testing.T) {
	s := loadSchema(t)
	for name, v := range messages {
		t.Run(name, func(t *testing.T) {
			def, ok := s.Defs[name]
			if !ok {
				t.Fatalf("websocket.schema.json has no $defs/%s", name)
			}
			all, req := jsonFields(reflect.TypeOf(v))
			var props []string
			for p := range def.Properties {
				props = append(props, p)
			}
			if !slices.Equal(sorted(all), sorted(props)) {
				t.Errorf("Go fields %v, schema properties %v", sorted(all), sorted(props))
			}
			if !slices.Equal(sorted(req), sorted(def.Required)) {
				t.Errorf("Go required (no omitempty) %v, schema required %v", sorted(req), sorted(def.Required))
			}
			if def.AdditionalProperties == nil || *def.AdditionalProperties {
				t.Error("the schema allows additional properties")
			}
			var typ struct {
				Const string `json:"const"`
			}
			_ = json.Unmarshal(def.Properties["type"], &typ)
			if want := typeOf(name); typ.Const != want {
				t.Errorf("type const %q, want %q", typ.Const, want)
			}
		})
	}
}

// typeOf is the "type" of a message definition: its name in lower case.
func typeOf(def string) string { return strings.ToLower(def) }

func TestMessageUnionsListEveryMessage(t *testing.T) {
	s := loadSchema(t)
	union := func(name string) []string {
		var out []string
		for _, r := range s.Defs[name].OneOf {
			out = append(out, strings.TrimPrefix(r.Ref, "#/$defs/"))
		}
		return sorted(out)
	}
	var server []string
	for name := range messages {
		if !slices.Contains(clientMessages, name) {
			server = append(server, name)
		}
	}
	if got := union("ClientMessage"); !slices.Equal(got, sorted(clientMessages)) {
		t.Errorf("ClientMessage lists %v, want %v", got, sorted(clientMessages))
	}
	if got := union("ServerMessage"); !slices.Equal(got, sorted(server)) {
		t.Errorf("ServerMessage lists %v, want %v", got, sorted(server))
	}
	for _, typ := range []string{TypeSubscribe, TypeUnsubscribe, TypeSubmit, TypePredict, TypePing, TypeAuth, TypeAuthenticated, TypeHello, TypeSubscribed,
		TypeUnsubscribed, TypeResults, TypeProgress, TypeEnd, TypeAccepted, TypePrediction, TypeError, TypeHeartbeat, TypePong} {
		found := false
		for name := range messages {
			found = found || typeOf(name) == typ
		}
		if !found {
			t.Errorf("type constant %q has no message", typ)
		}
	}
}

// The codes in openapi.yaml's Error schema are exactly the Go codes.
func TestErrorCodesMatchOpenAPI(t *testing.T) {
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`(?m)^\s+enum: \[(invalid_json[^\]]*)\]`).FindSubmatch(b)
	if m == nil {
		t.Fatal("openapi.yaml: no list of error codes in the Error schema")
	}
	var doc []string
	for _, c := range strings.Split(string(m[1]), ",") {
		doc = append(doc, strings.TrimSpace(c))
	}
	var code []string
	for _, c := range Codes() {
		code = append(code, string(c))
	}
	if !slices.Equal(sorted(doc), sorted(code)) {
		t.Fatalf("openapi.yaml lists %v\nGo has %v", sorted(doc), sorted(code))
	}
}

// openapiSchema reads the property names and required list of a schema of
// openapi.yaml's components (a plain object schema, as written there).
func openapiSchema(t *testing.T, name string) (props, required []string) {
	t.Helper()
	b, err := os.ReadFile("openapi.yaml")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(b), "\n")
	start := slices.Index(lines, "    "+name+":")
	if start < 0 {
		t.Fatalf("openapi.yaml has no schema %s", name)
	}
	prop := regexp.MustCompile(`^        ([a-z0-9_]+):`)
	for _, l := range lines[start+1:] {
		if len(l) > 4 && l[4] != ' ' { // the next schema
			break
		}
		if r, ok := strings.CutPrefix(l, "      required: ["); ok {
			for _, f := range strings.Split(strings.TrimSuffix(r, "]"), ",") {
				required = append(required, strings.TrimSpace(f))
			}
		}
		if m := prop.FindStringSubmatch(l); m != nil {
			props = append(props, m[1])
		}
	}
	return props, required
}

// httpBodies maps openapi.yaml's object schemas to the Go types of the
// bodies they describe.
var httpBodies = map[string]any{
	"JobLinks": JobLinks{}, "ErrorsFileLine": ErrorsFileLine{}, "JobStatus": JobStatus{}, "QueuePosition": QueuePosition{},
	"SubmitJobRequest": JobRequest{}, "SubmitJobResponse": SubmitResponse{}, "JobList": JobList{}, "ResultsPage": ResultsPage{},
	"Whoami": Whoami{}, "WorkerInfo": WorkerInfo{}, "ModelInfo": ModelInfo{}, "TensorSpec": model.TensorSpec{},
	"WebhookPayload": WebhookPayload{}, "JobWebhooks": JobWebhooks{}, "WebhookDelivery": WebhookDelivery{},
	"WebhookAttempt": wire.WebhookAttempt{}, "ErrorDetail": Detail{}, "TopEntry": TopEntry{}, "ReadyDetail": ReadyDetail{},
	"RegistryVersion": RegistryVersion{}, "RegistryVersions": RegistryVersions{}, "AliasRequest": AliasRequest{}, "Alias": Alias{},
	"DeadLetter": DeadLetter{}, "DeadLetterList": DeadLetterList{}, "DeadLetterItem": DeadLetterItem{}, "DeadLetterDetail": DeadLetterDetail{},
	"Redriven": Redriven{}, "Purged": Purged{}, "Limits": Limits{}, "TenantLimits": TenantLimits{},
}

// Every HTTP body has exactly the fields of its openapi.yaml schema, and
// what the schema requires the gateway always sends (no omitempty): the Go
// client, the web UI's generated types and the Python client's checked
// models (clients/python/tests/test_contract.py) read them. (A field always
// sent may still be optional in the document: a client does not count on
// it.)
func TestHTTPBodiesMatchOpenAPI(t *testing.T) {
	for name, v := range httpBodies {
		props, required := openapiSchema(t, name)
		all, req := jsonFields(reflect.TypeOf(v))
		missing := slices.DeleteFunc(slices.Clone(required), func(f string) bool { return slices.Contains(req, f) })
		if !slices.Equal(sorted(all), sorted(props)) || len(missing) > 0 {
			t.Errorf("%s: Go fields %v (always sent %v), schema %v (required %v): %v required but omitempty", name, sorted(all), sorted(req), sorted(props), sorted(required), missing)
		}
	}
}
