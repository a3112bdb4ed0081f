package layered

// Hits reports whether the segment from p to q meets the box, its border
// included (Liang and Barsky's clipping).
func (b Box) Hits(p, q Point) bool {
	t0, t1 := 0.0, 1.0
	dx, dy := q.X-p.X, q.Y-p.Y
	clip := func(den, num float64) bool { // keeps the part where den*t <= num
		switch {
		case den == 0:
			return num >= 0
		case den > 0:
			if t := num / den; t < t1 {
				t1 = t
			}
		default:
			if t := num / den; t > t0 {
				t0 = t
			}
		}
		return t0 <= t1
	}
	return clip(-dx, p.X-b.X) && clip(dx, b.X+b.W-p.X) &&
		clip(-dy, p.Y-b.Y) && clip(dy, b.Y+b.H-p.Y)
}
