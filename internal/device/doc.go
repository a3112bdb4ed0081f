// Package device is the registry of the edge devices herald delivers to:
// their definitions and tokens, their heartbeats (written
// in batches, so that ten thousand devices heartbeating every few seconds
// cost a few statements a second), their liveness (online until the device
// timeout passes without a heartbeat; the replica machinery declares them
// offline, once, judged only by a replica that has itself been connected for
// longer than the timeout), and snapshots of pools for placement.
package device
