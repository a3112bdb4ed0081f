// Package deploycheck holds the offline checks of deploy/ that make test runs:
// the container image's binary (deploy/Dockerfile), the Kubernetes manifests
// (deploy/kubernetes, rendered with kustomize and strictly decoded into the
// Kubernetes API types), and the Grafana dashboard and Prometheus rules
// (deploy/grafana, deploy/prometheus) against a real scrape of herald.
//
// It lives in the tools module so that the Kubernetes, kustomize and
// Prometheus libraries stay out of the product's go.mod. The checks build
// herald from the repository root the way the Dockerfile does.
package deploycheck
