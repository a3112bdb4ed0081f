package taskref

import (
	"bytes"
	"net/url"
	"strings"
)

// Render substitutes the references of the header value template s with
// their values as text. A value holding a control character other than tab
// is an error, since header values cannot carry them (CR and LF would
// start a new header). Only inserted values are checked; the template
// text itself is the registrant's. A template without "{{" is returned
// unchanged without allocation.
func Render(s string, results map[string]Result) (string, error) {
	if !strings.Contains(s, open) {
		return s, nil
	}
	return expand(s, results, func(_ []byte, r Ref, v string) (string, error) {
		if strings.ContainsFunc(v, isHeaderControl) {
			return "", refError(r, "value %.40q contains a control character, which a header value cannot hold", v)
		}
		return v, nil
	})
}

// RenderURL substitutes the references of the URL template s with their
// values as text, percent-escaped so that a value cannot change the
// structure of the URL: with url.PathEscape before the template's first
// literal '?', url.QueryEscape after it, and url.PathEscape again after a
// literal '#'. A template without "{{" is returned unchanged without
// allocation.
func RenderURL(s string, results map[string]Result) (string, error) {
	if !strings.Contains(s, open) {
		return s, nil
	}
	return expand(s, results, func(before []byte, _ Ref, v string) (string, error) {
		// Inserted values are escaped, so a '?' or '#' in the output so
		// far is literal template text.
		if bytes.IndexByte(before, '?') >= 0 && bytes.IndexByte(before, '#') < 0 {
			return url.QueryEscape(v), nil
		}
		return url.PathEscape(v), nil
	})
}

// insertFunc turns the text of the value of r into what is inserted;
// before is the output so far.
type insertFunc func(before []byte, r Ref, value string) (string, error)

// expand renders the template s, passing each value through insert.
func expand(s string, results map[string]Result, insert insertFunc) (string, error) {
	pieces, err := parse(s)
	if err != nil {
		return "", err
	}
	out, err := appendExpanded(make([]byte, 0, len(s)), pieces, results, insert)
	return string(out), err
}

// appendExpanded appends the rendering of pieces to dst.
func appendExpanded(dst []byte, pieces []piece, results map[string]Result, insert insertFunc) ([]byte, error) {
	for _, p := range pieces {
		if !p.isRef {
			dst = append(dst, p.text...)
			continue
		}
		v, err := resolve(p.ref, results)
		if err != nil {
			return nil, err
		}
		ins, err := insert(dst, p.ref, text(v))
		if err != nil {
			return nil, err
		}
		dst = append(dst, ins...)
	}
	return dst, nil
}

func isHeaderControl(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }
