// Package placement chooses the device of a pool that a task is delivered
// to, as a chain of pure, deterministic functions over a
// snapshot of the pool:
//
//   - filters drop the devices that cannot take the task now (offline, cpu
//     or memory above 0.9, circuit open, capacity full, labels not
//     matching, already tried by this task run), each with its reason;
//   - scorers rate the rest in [0, 1] (free cpu, free memory, short queue,
//     low latency as herald measured it, free capacity), combined by
//     weights;
//   - a selector orders them (the best N by score, then a stable tie-break
//     by task run id; or round robin; or rendezvous hashing of the task run
//     id), and the first is chosen.
//
// Nothing here reads a clock, the network, the database or a random source
// other than one seeded by the task run id: the same snapshot and task give
// the same decision, whatever order the devices come in, and a decision
// explains itself (the scores of the best candidates, or how many devices
// each filter dropped). A new filter, scorer or selector is a small type
// implementing one of the three interfaces.
package placement
