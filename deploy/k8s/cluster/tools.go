//go:build tools

// The KEDA programs are built from their own main packages in this module
// (go build github.com/kedacore/keda/v2/cmd/operator ...), so they compile
// against the same Kubernetes modules as the control plane.
package main

import (
	_ "github.com/kedacore/keda/v2/cmd/adapter"
	_ "github.com/kedacore/keda/v2/cmd/operator"
)
