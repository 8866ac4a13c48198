// Package clustertest applies the kustomize overlays of deploy/k8s to a real
// Kubernetes control plane on this machine and checks that they reach their
// expected state: etcd (Debian's etcd-server), kube-apiserver,
// kube-controller-manager and kube-scheduler, nodes simulated by kwok, KEDA's
// operator and metrics adapter, and a real nats-server (deploy/k8s/backlog)
// whose JOBIN backlog KEDA scales the workers on. It has tests only; run it
// with `make test-k8s` (scripts/k8s-test.sh builds and passes the programs).
package clustertest
