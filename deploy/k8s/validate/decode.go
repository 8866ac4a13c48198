package main

import (
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

// decode fills o.Typed with the object read into its k8s.io/api type (a
// ScaledObject into the local mirror), field names case-sensitive as the API
// server reads them. Unknown and duplicate fields, and the ScaledObject's
// schema, are not checked here: the API server refuses them (server-side
// apply validates fields strictly, KEDA's CRD carries the schema), and make
// test-k8s applies every overlay to one.
func decode(fs *Findings, o *Object) {
	key := o.APIVersion + "/" + o.Kind
	mk, ok := typed[key]
	if !ok {
		fs.add(o, "apiVersion/kind", "%s is not a kind the validator knows; add its Go API type to `typed` in decode.go", key)
		return
	}
	v := mk()
	if err := kjson.UnmarshalCaseSensitivePreserveInts(o.JSON, v); err != nil {
		fs.add(o, "", "cannot read into %T: %v", v, err)
		return
	}
	o.Typed = v
}

// ScaledObject mirrors the fields of KEDA's ScaledObject (keda.sh/v1alpha1)
// that the policy checks read.
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
