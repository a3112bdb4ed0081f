package metrics

import (
	"runtime"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterBuildInfo registers herald_build_info: always 1, labelled with
// the release (version, "devel" when the build stamped none), the Go
// version and the VCS revision the binary was built from ("unknown" when
// the build does not know it).
func RegisterBuildInfo(reg prometheus.Registerer, version, revision string) {
	if version == "" {
		version = "devel"
	}
	if revision == "" {
		revision = "unknown"
	}
	info := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "herald_build_info",
		Help:        "Always 1; its labels say which herald this is: version (the release, devel when not stamped), goversion and revision (the VCS revision).",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version(), "revision": revision},
	})
	info.Set(1)
	reg.MustRegister(info)
}
