package layered

import "slices"

// crossings counts the crossings of the segments between every two
// neighbouring layers in the current order: the inversions of the
// sequence of the lower ends' positions, the segments taken by their upper
// ends' positions (Barth, Jünger and Mutzel, "Simple and efficient bilayer
// cross counting", 2004), counted with a Fenwick tree.
func (o *ordering) crossings(p *proper) int {
	total := 0
	for l := 0; l+1 < len(o.layers); l++ {
		total += o.between(p, l)
	}
	return total
}

// between counts the crossings between layer l and layer l+1.
func (o *ordering) between(p *proper, l int) int {
	m := len(o.layers[l+1])
	tree := o.fenwick[:0]
	tree = append(tree, make([]int32, m+1)...)
	o.fenwick = tree
	inserted, total := 0, 0
	for _, v := range o.layers[l] {
		ends := o.sortedPositions(p.downs(v))
		for _, x := range ends {
			// Segments inserted before with a lower end further right
			// cross this one.
			le := 0
			for i := x + 1; i > 0; i -= i & -i {
				le += int(tree[i])
			}
			total += inserted - le
			for i := x + 1; int(i) <= m; i += i & -i {
				tree[i]++
			}
			inserted++
		}
	}
	return total
}

// sortedPositions returns the positions of vs, sorted, in a scratch buffer.
func (o *ordering) sortedPositions(vs []int32) []int32 {
	buf := o.scratch[:0]
	for _, v := range vs {
		buf = append(buf, o.pos[v])
	}
	if len(buf) > 1 {
		slices.Sort(buf)
	}
	o.scratch = buf
	return buf
}

// pairCrossings counts the crossings between the segments of two vertices
// v and w of a layer, given the sorted positions of their neighbours on one
// side, a and b: with v before w, and with w before v.
func pairCrossings(a, b []int32) (vw, wv int) {
	if len(a) == 0 || len(b) == 0 {
		return 0, 0
	}
	if len(a) == 1 && len(b) == 1 {
		switch {
		case a[0] > b[0]:
			return 1, 0
		case a[0] < b[0]:
			return 0, 1
		}
		return 0, 0
	}
	lt, le := 0, 0 // how many of b are < x, <= x
	for _, x := range a {
		for lt < len(b) && b[lt] < x {
			lt++
		}
		for le < len(b) && b[le] <= x {
			le++
		}
		vw += lt
		wv += len(b) - le
	}
	return vw, wv
}
