package layered

// isotonic places a column's vertices, in order, as near their targets as
// their separations allow: it sets y[i] to minimise the sum of
// w[i]*(y[i]-t[i])² under y[i+1]-y[i] >= sep[i]. With z[i] = y[i] - the
// separations above i, that is a weighted isotonic regression of z, solved
// exactly by pooling adjacent violators (Ayer et al., 1955) in linear time.
type isotonic struct {
	off         []float64
	start       []int32
	sumW, sumWZ []float64
}

func (s *isotonic) solve(t, w, sep, y []float64) {
	n := len(t)
	s.off = append(s.off[:0], 0)
	for i := 1; i < n; i++ {
		s.off = append(s.off, s.off[i-1]+sep[i-1])
	}
	s.start, s.sumW, s.sumWZ = s.start[:0], s.sumW[:0], s.sumWZ[:0]
	for i := range n {
		s.start = append(s.start, int32(i))
		s.sumW = append(s.sumW, w[i])
		s.sumWZ = append(s.sumWZ, w[i]*(t[i]-s.off[i]))
		for k := len(s.start) - 1; k > 0 && s.sumWZ[k-1]*s.sumW[k] >= s.sumWZ[k]*s.sumW[k-1]; k-- {
			s.sumW[k-1] += s.sumW[k]
			s.sumWZ[k-1] += s.sumWZ[k]
			s.start, s.sumW, s.sumWZ = s.start[:k], s.sumW[:k], s.sumWZ[:k]
		}
	}
	for k := range s.start {
		end := n
		if k+1 < len(s.start) {
			end = int(s.start[k+1])
		}
		mean := s.sumWZ[k] / s.sumW[k]
		for i := int(s.start[k]); i < end; i++ {
			y[i] = mean + s.off[i]
		}
	}
}
