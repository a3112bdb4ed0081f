package layered

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBoxHits(t *testing.T) {
	t.Parallel()
	box := Box{X: 10, Y: 10, W: 20, H: 10}
	for _, tc := range []struct {
		name string
		p, q Point
		want bool
	}{
		{"through", Point{0, 15}, Point{40, 15}, true},
		{"above", Point{0, 5}, Point{40, 5}, false},
		{"along the top border", Point{0, 10}, Point{40, 10}, true},
		{"ends before", Point{0, 15}, Point{9.9, 15}, false},
		{"ends on the left side", Point{0, 15}, Point{10, 15}, true},
		{"inside", Point{12, 12}, Point{14, 14}, true},
		{"diagonal past the corner", Point{0, 0}, Point{20, 9}, false},
		{"diagonal through the corner", Point{0, 0}, Point{20, 20}, true},
		{"vertical beside", Point{31, 0}, Point{31, 40}, false},
		{"a point inside", Point{15, 15}, Point{15, 15}, true},
		{"a point outside", Point{5, 5}, Point{5, 5}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got := box.Hits(tc.p, tc.q)
			require.Equal(t, tc.want, got, "got %v, want %v", got, tc.want)
		})
	}
}
