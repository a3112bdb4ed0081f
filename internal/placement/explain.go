package placement

import (
	"fmt"
	"strings"
)

// Explain says in one line why the decision is what it is: the chosen
// device with its score and the next-best, or why no device was eligible.
func (d *Decision) Explain() string {
	var b strings.Builder
	if len(d.Ranked) == 0 {
		b.WriteString("no device eligible")
		if len(d.Rejected) == 0 {
			b.WriteString(": the pool has no device")
		}
	} else {
		fmt.Fprintf(&b, "%s: %s", d.Strategy, d.describe(&d.Ranked[0]))
		fmt.Fprintf(&b, " of %d eligible", d.Eligible)
		if d.RetriedTried {
			b.WriteString(" (all tried before: trying again)")
		}
		if len(d.Ranked) > 1 {
			b.WriteString("; next ")
			for i := range d.Ranked[1:] {
				if i > 0 {
					b.WriteString(", ")
				}
				b.WriteString(d.describe(&d.Ranked[i+1]))
			}
		}
	}
	if len(d.Rejected) > 0 {
		if len(d.Ranked) > 0 {
			b.WriteString("; dropped")
		}
		b.WriteString(": ")
		for i, r := range d.Rejected {
			if i > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "%d %s", r.Count, r.Reason)
		}
	}
	return b.String()
}

// describe is a candidate's name and, for scored strategies, its score.
func (d *Decision) describe(c *Candidate) string {
	name := c.Device.Name
	if name == "" {
		name = c.Device.ID.String()
	}
	if len(c.Scores) == 0 {
		return name
	}
	return fmt.Sprintf("%s %.2f", name, c.Score)
}
