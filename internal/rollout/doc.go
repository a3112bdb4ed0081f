// Package rollout is the pure logic of a fleet rollout (SPEC 10): how a
// fleet's members are split into waves (Plan, Order), and what a rollout
// does next given where it stands (Decide). It reads no clock and no
// database: the caller (jobs/rollout.go) gives it a snapshot, taken under
// the rollout's row lock, and applies the decision in the same
// transaction, so that one decision is taken once whatever the number of
// replicas.
package rollout
