// Package monitoring holds the monitoring of batchinfer that ships beside
// the code: the Prometheus alert rules and their unit tests
// (prometheus/alerts.yml, prometheus/tests/), the Prometheus configuration
// of the compose override (prometheus/prometheus.yml and
// Dockerfile.prometheus), the Grafana dashboard (grafana/batchinfer.json)
// and the Kubernetes ConfigMaps that carry them (kustomization.yaml).
//
// Its tests check them with promtool (Debian's prometheus package) and
// against the /metrics of a real gateway and worker: every metric name a
// rule or a dashboard query uses must be one they export, and their
// exposition must pass `promtool check metrics`.
package monitoring
