package deploycheck

import (
	"fmt"

	appsv1 "k8s.io/api/apps/v1"
	autoscalingv2 "k8s.io/api/autoscaling/v2"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
)

// decoder decodes the kinds herald's manifests may hold, strictly: a field
// the API type does not have, or a field given twice, is an error, as
// `kubectl apply --validate=strict` makes it. A kind outside the scheme is
// an error too.
var decoder = func() runtime.Decoder {
	scheme := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{
		corev1.AddToScheme, appsv1.AddToScheme, batchv1.AddToScheme,
		policyv1.AddToScheme, autoscalingv2.AddToScheme,
	} {
		if err := add(scheme); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(scheme, serializer.EnableStrict).UniversalDeserializer()
}()

// Decode decodes one manifest (YAML or JSON) into its typed API object.
func Decode(doc []byte) (runtime.Object, error) {
	obj, gvk, err := decoder.Decode(doc, nil, nil)
	if err != nil {
		return nil, err
	}
	if gvk == nil {
		return nil, fmt.Errorf("no apiVersion and kind")
	}
	return obj, nil
}
