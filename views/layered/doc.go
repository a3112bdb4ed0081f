// Package layered draws a directed acyclic graph in layers, left to right
// (the Sugiyama method), so that the drawing is correct by construction:
//
//   - layers: each node sits in the layer of its longest path from a node
//     without predecessors (layers.go);
//   - dummy nodes: an edge that spans several layers is cut into one
//     segment per layer it crosses, through a dummy node in each layer in
//     between, so that every segment joins neighbouring layers (proper.go);
//   - crossing reduction: layer by layer sweeps, down and up, sort each
//     layer by the barycentre of its neighbours in the layer before, then
//     swap neighbours while that removes crossings (transpose); the best
//     order seen is kept (order.go, crossings.go);
//   - coordinates: layers are columns, as wide as their widest box, with a
//     gap between them; within a column, nodes and dummies keep their order
//     and their separations while they move towards their neighbours
//     (isotonic regression, place.go, pav.go);
//   - routes: an edge leaves its source's box on the right, crosses each
//     column it spans horizontally at its dummy's height, in a band no box
//     occupies, and enters its target's box on the left (route.go).
//
// Boxes only occupy columns, and within a column every box and dummy has
// its own band, so an edge never passes through a box it does not
// connect. Layout is a pure function of its input; the same input always
// gives the same drawing.
package layered
