package deploycheck

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
)

// Manifests are the objects a kustomization renders, decoded and sorted by
// kind.
type Manifests struct {
	Namespaces      []*corev1.Namespace
	ServiceAccounts []*corev1.ServiceAccount
	ConfigMaps      []*corev1.ConfigMap
	Secrets         []*corev1.Secret
	Services        []*corev1.Service
	Deployments     []*appsv1.Deployment
	Jobs            []*batchv1.Job
	PDBs            []*policyv1.PodDisruptionBudget
	HPAs            []*autoscalingv2.HorizontalPodAutoscaler
}

// Load renders the kustomization in dir and strictly decodes every object.
func Load(dir string) (*Manifests, error) {
	docs, err := Render(dir)
	if err != nil {
		return nil, err
	}
	m := &Manifests{}
	for i, doc := range docs {
		obj, err := Decode(doc)
		if err != nil {
			return nil, fmt.Errorf("%s, object %d: %w\n%s", dir, i+1, err, doc)
		}
		switch o := obj.(type) {
		case *corev1.Namespace:
			m.Namespaces = append(m.Namespaces, o)
		case *corev1.ServiceAccount:
			m.ServiceAccounts = append(m.ServiceAccounts, o)
		case *corev1.ConfigMap:
			m.ConfigMaps = append(m.ConfigMaps, o)
		case *corev1.Secret:
			m.Secrets = append(m.Secrets, o)
		case *corev1.Service:
			m.Services = append(m.Services, o)
		case *appsv1.Deployment:
			m.Deployments = append(m.Deployments, o)
		case *batchv1.Job:
			m.Jobs = append(m.Jobs, o)
		case *policyv1.PodDisruptionBudget:
			m.PDBs = append(m.PDBs, o)
		case *autoscalingv2.HorizontalPodAutoscaler:
			m.HPAs = append(m.HPAs, o)
		default:
			return nil, fmt.Errorf("%s, object %d: unexpected %T", dir, i+1, obj)
		}
	}
	return m, nil
}

// named returns the object of objs named name, or nil.
func named[T interface{ GetName() string }](objs []T, name string) T {
	for _, o := range objs {
		if o.GetName() == name {
			return o
		}
	}
	var none T
	return none
}

// ConfigMap returns the ConfigMap named name, or nil.
func (m *Manifests) ConfigMap(name string) *corev1.ConfigMap { return named(m.ConfigMaps, name) }

// Secret returns the Secret named name, or nil.
func (m *Manifests) Secret(name string) *corev1.Secret { return named(m.Secrets, name) }

// Deployment returns the Deployment named name, or nil.
func (m *Manifests) Deployment(name string) *appsv1.Deployment { return named(m.Deployments, name) }

// SecretKeys are the keys of the Secret named name (data and stringData);
// ok is false when there is no such Secret.
func (m *Manifests) SecretKeys(name string) (keys map[string]bool, ok bool) {
	s := m.Secret(name)
	if s == nil {
		return nil, false
	}
	keys = map[string]bool{}
	for k := range s.Data {
		keys[k] = true
	}
	for k := range s.StringData {
		keys[k] = true
	}
	return keys, true
}
