package deploycheck

import (
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// kustomizations are the rendered configurations the checks run on: the
// base alone (the Secret comes from an overlay) and the example overlay.
var kustomizations = []struct {
	name string
	dir  string
	// secretProvided: the Secret herald reads is part of the output.
	secretProvided bool
}{
	{name: "base", dir: "deploy/kubernetes/base"},
	{name: "example overlay", dir: "deploy/kubernetes/overlays/example", secretProvided: true},
}

// Budgets of herald's shutdown after --shutdown-timeout (cmd/herald/serve.go):
// releasing deliveries still running, then recording the replica's exit.
const (
	releaseBudget = 10 * time.Second
	exitBudget    = 10 * time.Second
	// deliveryRecordBudget is how long a delivery job runs beyond its
	// request's timeout (to record the attempt).
	deliveryRecordBudget = 15 * time.Second
	// longPoll is the longest wait of a device's long-poll, which an API
	// replica lets finish when it stops.
	longPoll = 30 * time.Second
)

// cluster is one rendered kustomization with what the checks need to read
// it as herald will run it.
type cluster struct {
	*Manifests
	image      *imageBuild
	imageEnv   map[string]string
	entrypoint []string
	settings   map[string]Settings
}

func loadCluster(t *testing.T, dir string) *cluster {
	t.Helper()
	b := image(t)
	m, err := Load(filepath.Join(b.Root, dir))
	require.NoError(t, err)
	final := b.Dockerfile.Final()
	c := &cluster{Manifests: m, image: b, settings: map[string]Settings{}}
	c.imageEnv, err = final.Env(-1)
	require.NoError(t, err)
	c.entrypoint, err = final.Entrypoint()
	require.NoError(t, err)
	for _, cmd := range []string{"serve", "migrate"} {
		c.settings[cmd], err = ReadSettings(b.Binary, cmd)
		require.NoError(t, err)
	}
	return c
}

// resolve resolves a container of the cluster.
func (c *cluster) resolve(t *testing.T, ctr corev1.Container) *Invocation {
	t.Helper()
	inv, err := Resolve(ctr, c.Manifests, c.imageEnv, c.entrypoint, c.settings)
	require.NoError(t, err)
	return inv
}

// main returns a Deployment's herald container and its invocation.
func (c *cluster) main(t *testing.T, d *appsv1.Deployment) (corev1.Container, *Invocation) {
	t.Helper()
	ctrs := d.Spec.Template.Spec.Containers
	require.Len(t, ctrs, 1, "Deployment %s runs one container", d.Name)
	return ctrs[0], c.resolve(t, ctrs[0])
}

// byRole returns the Deployment whose herald runs with --role role.
func (c *cluster) byRole(t *testing.T, role string) *appsv1.Deployment {
	t.Helper()
	var found []*appsv1.Deployment
	for _, d := range c.Deployments {
		if _, inv := c.main(t, d); inv.Command == "serve" {
			if r, _ := inv.Get("role"); r == role {
				found = append(found, d)
			}
		}
	}
	require.Len(t, found, 1, "one Deployment runs herald serve --role %s", role)
	return found[0]
}

// unknownVariables are the HERALD_* variables of the invocation's
// environment that no herald command reads (a misspelt name is ignored by
// herald): the shared ConfigMap may hold settings of serve that migrate
// does not read.
func (c *cluster) unknownVariables(inv *Invocation) []string {
	var out []string
	for _, name := range inv.UnknownVariables() {
		var known bool
		for _, s := range c.settings {
			_, ok := s.ByEnv(name)
			known = known || ok
		}
		if !known {
			out = append(out, name)
		}
	}
	return out
}

// podSpecs are every pod template of the cluster by owner.
func (c *cluster) podSpecs() map[string]corev1.PodSpec {
	out := map[string]corev1.PodSpec{}
	for _, d := range c.Deployments {
		out["Deployment "+d.Name] = d.Spec.Template.Spec
	}
	for _, j := range c.Jobs {
		out["Job "+j.Name] = j.Spec.Template.Spec
	}
	return out
}

// duration parses one of herald's duration settings.
func duration(t *testing.T, inv *Invocation, flag string) time.Duration {
	t.Helper()
	v, fromSecret := inv.Get(flag)
	require.False(t, fromSecret, "--%s from a Secret", flag)
	d, err := time.ParseDuration(v)
	require.NoError(t, err, "--%s=%q", flag, v)
	return d
}

// The decoder refuses what the API server's strict validation refuses, so
// that the manifests' passing means something.
func TestStrictDecodingRefusesUnknownAndDuplicateFields(t *testing.T) {
	t.Parallel()
	const deployment = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: x
spec:
  selector:
    matchLabels: {app: x}
  template:
    metadata:
      labels: {app: x}
    spec:
      containers:
        - name: x
          image: x
`
	for _, tc := range []struct {
		name, doc, want string
	}{
		{name: "valid", doc: deployment},
		{name: "misspelt field", doc: deployment + "          imagePullPolicyy: Always\n", want: `unknown field "spec.template.spec.containers[0].imagePullPolicyy"`},
		{name: "field given twice", doc: deployment + "          image: other\n", want: `key "image" already set`},
		{name: "field of another kind", doc: strings.Replace(deployment, "spec:\n  selector", "spec:\n  backoffLimit: 3\n  selector", 1), want: `unknown field "spec.backoffLimit"`},
		{name: "wrong type", doc: strings.Replace(deployment, "spec:\n  selector", "spec:\n  replicas: two\n  selector", 1), want: "replicas"},
		{name: "unknown kind", doc: "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: x}\n", want: "no kind"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Decode([]byte(tc.doc))
			if tc.want == "" {
				require.NoError(t, err)
				return
			}
			require.ErrorContains(t, err, tc.want)
		})
	}
}

func TestKubernetesManifests(t *testing.T) {
	t.Parallel()
	for _, k := range kustomizations {
		t.Run(k.name, func(t *testing.T) {
			t.Parallel()
			c := loadCluster(t, k.dir)
			t.Run("roles split, no migration at start", func(t *testing.T) { checkRoles(t, c) })
			t.Run("migration before the replicas", func(t *testing.T) { checkMigration(t, c) })
			t.Run("probes", func(t *testing.T) { checkProbes(t, c) })
			t.Run("graceful termination", func(t *testing.T) { checkTermination(t, c) })
			t.Run("one image and one configuration", func(t *testing.T) { checkConsistency(t, c) })
			t.Run("references", func(t *testing.T) { checkReferences(t, c, k.secretProvided) })
			t.Run("security", func(t *testing.T) { checkSecurity(t, c) })
			t.Run("resources", func(t *testing.T) { checkResources(t, c) })
			t.Run("service", func(t *testing.T) { checkService(t, c) })
			t.Run("disruption budgets and autoscaling", func(t *testing.T) { checkScaling(t, c) })
		})
	}
}

func checkRoles(t *testing.T, c *cluster) {
	require.Len(t, c.Deployments, 2, "an API and a worker Deployment")
	for _, role := range []string{"api", "worker"} {
		d := c.byRole(t, role)
		_, inv := c.main(t, d)
		noMigrate, _ := inv.Get("no-migrate")
		require.Equal(t, "true", noMigrate, "Deployment %s: herald serve --no-migrate", d.Name)
		require.Equal(t, role, d.Spec.Template.Labels["app.kubernetes.io/component"], "Deployment %s's pods are labelled with their role", d.Name)
		require.Empty(t, c.unknownVariables(inv), "Deployment %s: variables no herald command reads", d.Name)
	}
	api := c.byRole(t, "api")
	_, inv := c.main(t, api)
	_, keyFromSecret := inv.Get("api-key")
	require.True(t, keyFromSecret, "the API key comes from a Secret")
	insecure, _ := inv.Get("insecure-no-auth")
	require.Equal(t, "false", insecure)
}

func checkMigration(t *testing.T, c *cluster) {
	require.Len(t, c.Jobs, 1, "one migration Job")
	job := c.Jobs[0]
	spec := job.Spec.Template.Spec
	require.Len(t, spec.Containers, 1)
	inv := c.resolve(t, spec.Containers[0])
	require.Equal(t, "migrate", inv.Command, "the Job runs herald migrate")
	require.Empty(t, c.unknownVariables(inv))
	require.Contains(t, []corev1.RestartPolicy{corev1.RestartPolicyNever, corev1.RestartPolicyOnFailure}, spec.RestartPolicy)
	require.NotNil(t, job.Spec.BackoffLimit, "the Job retries a bounded number of times")
	require.NotNil(t, job.Spec.ActiveDeadlineSeconds, "the Job cannot hang forever")

	// However the objects were applied, a replica starts only after the
	// migrations: its init container runs herald migrate first.
	for _, d := range c.Deployments {
		inits := d.Spec.Template.Spec.InitContainers
		require.NotEmpty(t, inits, "Deployment %s has an init container", d.Name)
		var migrates bool
		for _, ic := range inits {
			if c.resolve(t, ic).Command == "migrate" {
				migrates = true
			}
		}
		require.True(t, migrates, "Deployment %s: an init container runs herald migrate", d.Name)
	}
}

func checkProbes(t *testing.T, c *cluster) {
	for _, d := range c.Deployments {
		ctr, inv := c.main(t, d)
		addr, _ := inv.Get("addr")
		_, portText, ok := strings.Cut(addr, ":")
		require.True(t, ok, "Deployment %s: HERALD_ADDR %q has a port", d.Name, addr)
		listen, err := strconv.Atoi(portText)
		require.NoError(t, err)
		for _, p := range []struct {
			kind  string
			probe *corev1.Probe
			path  string
		}{
			{"readiness", ctr.ReadinessProbe, "/readyz"},
			{"liveness", ctr.LivenessProbe, "/healthz"},
		} {
			require.NotNil(t, p.probe, "Deployment %s has a %s probe", d.Name, p.kind)
			require.NotNil(t, p.probe.HTTPGet, "Deployment %s: %s probe over HTTP", d.Name, p.kind)
			require.Equal(t, p.path, p.probe.HTTPGet.Path, "Deployment %s: %s probe", d.Name, p.kind)
			require.Equal(t, listen, containerPort(t, ctr, p.probe.HTTPGet.Port), "Deployment %s: the %s probe calls the port herald listens on", d.Name, p.kind)
		}
	}
}

// containerPort resolves a port given by number or by name to its number.
func containerPort(t *testing.T, ctr corev1.Container, port intstr.IntOrString) int {
	t.Helper()
	if port.Type == intstr.Int {
		for _, p := range ctr.Ports {
			if int(p.ContainerPort) == port.IntValue() {
				return port.IntValue()
			}
		}
		require.Failf(t, "undeclared port", "container %s declares no port %d", ctr.Name, port.IntValue())
	}
	for _, p := range ctr.Ports {
		if p.Name == port.StrVal {
			return int(p.ContainerPort)
		}
	}
	require.Failf(t, "unknown port", "container %s has no port named %q", ctr.Name, port.StrVal)
	return 0
}

func checkTermination(t *testing.T, c *cluster) {
	for _, d := range c.Deployments {
		ctr, inv := c.main(t, d)
		spec := d.Spec.Template.Spec
		require.NotNil(t, spec.TerminationGracePeriodSeconds, "Deployment %s sets terminationGracePeriodSeconds", d.Name)
		grace := time.Duration(*spec.TerminationGracePeriodSeconds) * time.Second
		var preStop time.Duration
		if ctr.Lifecycle != nil && ctr.Lifecycle.PreStop != nil {
			h := ctr.Lifecycle.PreStop
			require.NotNil(t, h.Sleep, "Deployment %s: a preStop in the image can only be a sleep action (no shell, no sleep binary)", d.Name)
			preStop = time.Duration(h.Sleep.Seconds) * time.Second
		}
		shutdown := duration(t, inv, "shutdown-timeout")
		role, _ := inv.Get("role")
		var release time.Duration // only a process with workers releases deliveries
		if role != "api" {
			release = releaseBudget
		}
		need := preStop + shutdown + release + exitBudget
		require.GreaterOrEqual(t, grace, need,
			"Deployment %s: terminationGracePeriodSeconds %s < preStop %s + --shutdown-timeout %s + release %s + exit %s: the kubelet would SIGKILL herald mid-shutdown",
			d.Name, grace, preStop, shutdown, release, exitBudget)

		switch role {
		case "worker":
			longest := duration(t, inv, "max-request-timeout") + deliveryRecordBudget
			require.GreaterOrEqual(t, shutdown, longest, "Deployment %s: --shutdown-timeout covers the longest delivery (--max-request-timeout + %s)", d.Name, deliveryRecordBudget)
		case "api":
			require.NotZero(t, preStop, "Deployment %s: a preStop delay lets the Service's endpoints drop the pod before herald stops accepting", d.Name)
			require.GreaterOrEqual(t, shutdown, longPoll, "Deployment %s: --shutdown-timeout lets a device's long-poll (wait=%s) finish", d.Name, longPoll)
		}
	}
}

func checkConsistency(t *testing.T, c *cluster) {
	type proc struct {
		where string
		ctr   corev1.Container
		inv   *Invocation
	}
	var procs []proc
	for owner, spec := range c.podSpecs() {
		for _, ctr := range slices.Concat(spec.InitContainers, spec.Containers) {
			procs = append(procs, proc{owner + " container " + ctr.Name, ctr, c.resolve(t, ctr)})
		}
	}
	image := procs[0].ctr.Image
	require.NotEmpty(t, image)
	// Settings every process must agree on: the database, the liveness
	// timing (each replica states its own, and a survivor judges others by
	// theirs), the request timeout bound (validated by the API, enforced by
	// workers), the networks tasks may call (checked by the API at
	// registration, by workers when they dial).
	shared := []string{"database-url", "heartbeat-interval", "replica-timeout", "max-request-timeout", "allowed-target-networks", "log-format"}
	first := map[string]string{}
	for _, p := range procs {
		require.Equal(t, image, p.ctr.Image, "%s: every container runs the same image", p.where)
		require.Empty(t, c.unknownVariables(p.inv), "%s: variables no herald command reads", p.where)
		for _, name := range shared {
			if _, ok := p.inv.Settings[name]; !ok {
				continue // migrate has no replica settings
			}
			v, fromSecret := p.inv.Get(name)
			if fromSecret {
				st := p.inv.Settings[name]
				e := p.inv.Env[st.Env]
				v = "secret " + e.Secret + "/" + e.Key
			}
			if prev, ok := first[name]; ok {
				require.Equal(t, prev, v, "%s: --%s differs from another process's", p.where, name)
			} else {
				first[name] = v
			}
		}
		if p.inv.Command == "serve" {
			hb, timeout := duration(t, p.inv, "heartbeat-interval"), duration(t, p.inv, "replica-timeout")
			require.GreaterOrEqual(t, timeout, 3*hb, "%s: --replica-timeout is at least 3 heartbeat intervals (herald refuses less)", p.where)
		}
	}
	require.True(t, strings.HasPrefix(first["database-url"], "secret "), "DATABASE_URL comes from a Secret")
}

func checkReferences(t *testing.T, c *cluster, secretProvided bool) {
	for owner, spec := range c.podSpecs() {
		missing := MissingReferences(spec, c.Manifests)
		if !secretProvided {
			// The base leaves the Secret to the overlay: only it may be missing.
			missing = slices.DeleteFunc(missing, func(s string) bool { return strings.HasSuffix(s, `Secret "herald" does not exist`) })
		}
		require.Empty(t, missing, "%s refers to what is not there", owner)
		if spec.ServiceAccountName != "" {
			var found bool
			for _, sa := range c.ServiceAccounts {
				found = found || sa.Name == spec.ServiceAccountName
			}
			require.True(t, found, "%s: ServiceAccount %s exists", owner, spec.ServiceAccountName)
		}
	}
	if secretProvided {
		keys, ok := c.SecretKeys(c.secretName(t))
		require.True(t, ok)
		require.Equal(t, map[string]bool{"DATABASE_URL": true, "HERALD_API_KEY": true}, keys, "the Secret holds the database URL and the API key")
	}
}

// secretName is the Secret the API's DATABASE_URL comes from (kustomize may
// have suffixed its name with a hash).
func (c *cluster) secretName(t *testing.T) string {
	t.Helper()
	_, inv := c.main(t, c.byRole(t, "api"))
	e := inv.Env["DATABASE_URL"]
	require.NotEmpty(t, e.Secret)
	return e.Secret
}

func checkSecurity(t *testing.T, c *cluster) {
	uid, gid := imageUser(t, c.image.Dockerfile.Final())
	for owner, spec := range c.podSpecs() {
		require.NotNil(t, spec.AutomountServiceAccountToken, "%s: automountServiceAccountToken set", owner)
		require.False(t, *spec.AutomountServiceAccountToken, "%s: herald needs no Kubernetes API token", owner)
		psc := spec.SecurityContext
		require.NotNil(t, psc, "%s: pod securityContext", owner)
		require.True(t, psc.RunAsNonRoot != nil && *psc.RunAsNonRoot, "%s: runAsNonRoot", owner)
		if psc.RunAsUser != nil {
			require.EqualValues(t, uid, *psc.RunAsUser, "%s: runAsUser is the image's USER", owner)
		}
		if psc.RunAsGroup != nil {
			require.EqualValues(t, gid, *psc.RunAsGroup, "%s: runAsGroup is the image's group", owner)
		}
		require.True(t, psc.SeccompProfile != nil && psc.SeccompProfile.Type == corev1.SeccompProfileTypeRuntimeDefault, "%s: seccomp RuntimeDefault (restricted Pod Security Standard)", owner)
		for _, ctr := range slices.Concat(spec.InitContainers, spec.Containers) {
			where := owner + " container " + ctr.Name
			sc := ctr.SecurityContext
			require.NotNil(t, sc, "%s: securityContext", where)
			require.True(t, sc.RunAsNonRoot != nil && *sc.RunAsNonRoot, "%s: runAsNonRoot", where)
			require.True(t, sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem, "%s: readOnlyRootFilesystem", where)
			require.True(t, sc.AllowPrivilegeEscalation != nil && !*sc.AllowPrivilegeEscalation, "%s: allowPrivilegeEscalation false", where)
			require.NotNil(t, sc.Capabilities, "%s: capabilities", where)
			require.Contains(t, sc.Capabilities.Drop, corev1.Capability("ALL"), "%s: drops ALL capabilities", where)
			require.Empty(t, sc.Capabilities.Add, "%s: adds no capability", where)
			require.True(t, sc.Privileged == nil || !*sc.Privileged, "%s: not privileged", where)
		}
	}
}

func checkResources(t *testing.T, c *cluster) {
	for owner, spec := range c.podSpecs() {
		for _, ctr := range slices.Concat(spec.InitContainers, spec.Containers) {
			where := owner + " container " + ctr.Name
			r := ctr.Resources
			for _, name := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
				q, ok := r.Requests[name]
				require.True(t, ok && !q.IsZero(), "%s: requests %s", where, name)
			}
			limit, ok := r.Limits[corev1.ResourceMemory]
			require.True(t, ok, "%s: a memory limit", where)
			require.GreaterOrEqual(t, limit.Cmp(r.Requests[corev1.ResourceMemory]), 0, "%s: memory limit ≥ request", where)
		}
	}
}

func checkService(t *testing.T, c *cluster) {
	require.Len(t, c.Services, 1, "one Service: the API's")
	svc := c.Services[0]
	sel := labels.SelectorFromSet(svc.Spec.Selector)
	require.False(t, sel.Empty(), "the Service selects pods")
	api, worker := c.byRole(t, "api"), c.byRole(t, "worker")
	require.True(t, sel.Matches(labels.Set(api.Spec.Template.Labels)), "Service %s selects the API pods", svc.Name)
	require.False(t, sel.Matches(labels.Set(worker.Spec.Template.Labels)), "Service %s does not select workers", svc.Name)
	ctr, inv := c.main(t, api)
	addr, _ := inv.Get("addr")
	for _, p := range svc.Spec.Ports {
		require.Equal(t, strings.TrimPrefix(addr, ":"), fmt.Sprint(containerPort(t, ctr, p.TargetPort)), "Service port %s reaches herald's listener", p.Name)
	}
}

func checkScaling(t *testing.T, c *cluster) {
	for _, d := range c.Deployments {
		sel, err := metav1.LabelSelectorAsSelector(d.Spec.Selector)
		require.NoError(t, err)
		require.True(t, sel.Matches(labels.Set(d.Spec.Template.Labels)), "Deployment %s's selector matches its pods", d.Name)

		var pdbs int
		for _, p := range c.PDBs {
			ps, err := metav1.LabelSelectorAsSelector(p.Spec.Selector)
			require.NoError(t, err)
			if ps.Matches(labels.Set(d.Spec.Template.Labels)) {
				pdbs++
				require.True(t, p.Spec.MaxUnavailable != nil || p.Spec.MinAvailable != nil, "PodDisruptionBudget %s sets a budget", p.Name)
				for _, other := range c.Deployments {
					if other != d {
						require.False(t, ps.Matches(labels.Set(other.Spec.Template.Labels)), "PodDisruptionBudget %s selects one Deployment's pods", p.Name)
					}
				}
			}
		}
		require.Equal(t, 1, pdbs, "Deployment %s has one PodDisruptionBudget", d.Name)

		var hpas int
		for _, h := range c.HPAs {
			ref := h.Spec.ScaleTargetRef
			require.NotNil(t, c.Deployment(ref.Name), "HorizontalPodAutoscaler %s scales an existing Deployment", h.Name)
			if ref.Kind != "Deployment" || ref.APIVersion != "apps/v1" || ref.Name != d.Name {
				continue
			}
			hpas++
			require.NotNil(t, h.Spec.MinReplicas)
			require.GreaterOrEqual(t, *h.Spec.MinReplicas, int32(2), "HorizontalPodAutoscaler %s keeps two pods, so that a disruption leaves one", h.Name)
			require.GreaterOrEqual(t, h.Spec.MaxReplicas, *h.Spec.MinReplicas)
			for _, m := range h.Spec.Metrics {
				if m.Resource != nil {
					_, ok := d.Spec.Template.Spec.Containers[0].Resources.Requests[m.Resource.Name]
					require.True(t, ok, "HorizontalPodAutoscaler %s scales on %s utilization, which needs a request", h.Name, m.Resource.Name)
				}
			}
		}
		require.Equal(t, 1, hpas, "Deployment %s has one HorizontalPodAutoscaler", d.Name)
	}
}
