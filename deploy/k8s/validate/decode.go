package main

import (
	"encoding/json"
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	kjson "sigs.k8s.io/json"
)

// typed lists the kinds the manifests may use, each with its Go API type.
// Anything else is a finding: add the type here first.
var typed = map[string]func() any{
	"v1/ConfigMap":                           func() any { return &corev1.ConfigMap{} },
	"v1/Namespace":                           func() any { return &corev1.Namespace{} },
	"v1/Secret":                              func() any { return &corev1.Secret{} },
	"v1/Service":                             func() any { return &corev1.Service{} },
	"apps/v1/Deployment":                     func() any { return &appsv1.Deployment{} },
	"apps/v1/StatefulSet":                    func() any { return &appsv1.StatefulSet{} },
	"policy/v1/PodDisruptionBudget":          func() any { return &policyv1.PodDisruptionBudget{} },
	"autoscaling/v2/HorizontalPodAutoscaler": func() any { return &autoscalingv2.HorizontalPodAutoscaler{} },
	"networking.k8s.io/v1/NetworkPolicy":     func() any { return &networkingv1.NetworkPolicy{} },
	"keda.sh/v1alpha1/ScaledObject":          func() any { return &ScaledObject{} },
}

// strictUnmarshal decodes JSON the way the API server's strict field
// validation does (sigs.k8s.io/json): field names are case-sensitive, and
// an unknown or duplicate field is an error.
func strictUnmarshal(data []byte, v any) []error {
	strict, err := kjson.UnmarshalStrict(data, v, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err != nil {
		return []error{err}
	}
	return strict
}

// decode fills o.Typed. Built-in kinds are decoded strictly into their
// k8s.io/api types. A ScaledObject is checked against KEDA's CRD schema
// (keda.go), its metadata decoded strictly into ObjectMeta, and its spec read
// into the local ScaledObject mirror.
func decode(fs *Findings, o *Object, keda *kedaSchema) {
	key := o.APIVersion + "/" + o.Kind
	mk, ok := typed[key]
	if !ok {
		fs.add(o, "apiVersion/kind", "%s is not a kind the validator knows; add its Go API type to `typed` in decode.go", key)
		return
	}
	v := mk()
	if so, ok := v.(*ScaledObject); ok {
		for _, e := range keda.validate(o.JSON) {
			fs.add(o, e.field, "%s (KEDA %s CRD schema)", e.msg, kedaVersion)
		}
		var meta struct {
			Metadata metav1.ObjectMeta `json:"metadata"`
		}
		// Only metadata is strict here (the schema covers the rest).
		if err := decodeMetadata(o.JSON, &meta.Metadata); err != nil {
			fs.add(o, "metadata", "%v", err)
		}
		if err := kjson.UnmarshalCaseSensitivePreserveInts(o.JSON, so); err != nil {
			fs.add(o, "", "cannot read: %v", err)
			return
		}
		o.Typed = so
		return
	}
	strict, err := kjson.UnmarshalStrict(o.JSON, v, kjson.DisallowUnknownFields, kjson.DisallowDuplicateFields)
	if err != nil {
		fs.add(o, "", "decoding into %T: %v", v, err)
		return
	}
	for _, e := range strict {
		fs.add(o, "", "strict decoding into %T: %v", v, e)
	}
	// Decoded despite unknown fields: the other checks still run on it.
	o.Typed = v
}

func decodeMetadata(objJSON []byte, meta *metav1.ObjectMeta) error {
	var raw map[string]json.RawMessage
	if err := kjson.UnmarshalCaseSensitivePreserveInts(objJSON, &raw); err != nil {
		return err
	}
	m, ok := raw["metadata"]
	if !ok {
		return fmt.Errorf("missing")
	}
	if errs := strictUnmarshal(m, meta); len(errs) > 0 {
		return fmt.Errorf("strict decoding into ObjectMeta: %v", errs[0])
	}
	return nil
}

// ScaledObject mirrors the fields of KEDA's ScaledObject (keda.sh/v1alpha1)
// that the policy checks read. It is not the strict check: keda.go validates
// the whole object against KEDA's own CRD schema, with unknown fields
// rejected.
type ScaledObject struct {
	metav1.TypeMeta `json:",inline"`
	Metadata        metav1.ObjectMeta `json:"metadata"`
	Spec            struct {
		ScaleTargetRef struct {
			APIVersion string `json:"apiVersion"`
			Kind       string `json:"kind"`
			Name       string `json:"name"`
		} `json:"scaleTargetRef"`
		MinReplicaCount *int32 `json:"minReplicaCount"`
		MaxReplicaCount *int32 `json:"maxReplicaCount"`
		Fallback        *struct {
			FailureThreshold int32 `json:"failureThreshold"`
			Replicas         int32 `json:"replicas"`
		} `json:"fallback"`
		Triggers []struct {
			Type       string            `json:"type"`
			Name       string            `json:"name"`
			Metadata   map[string]string `json:"metadata"`
			MetricType string            `json:"metricType"`
		} `json:"triggers"`
	} `json:"spec"`
}
