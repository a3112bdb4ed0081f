package jobs

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// storableJSON reports why PostgreSQL's jsonb would refuse the valid JSON
// document b, which Go accepts: bytes that are not UTF-8, the escape
// \u0000, and UTF-16 surrogates that are not in pairs. nil when jsonb takes
// it.
func storableJSON(b []byte) error {
	if !utf8.Valid(b) {
		return errors.New("it is not valid UTF-8")
	}
	inString := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if !inString {
			if c == '"' {
				inString = true
			}
			continue
		}
		switch c {
		case '"':
			inString = false
		case '\\':
			if i+1 < len(b) && b[i+1] == 'u' {
				code, ok := hex4(b, i+2)
				if !ok {
					break
				}
				switch {
				case code == 0:
					return fmt.Errorf("it holds the escape \\u0000 at byte %d", i)
				case code >= 0xD800 && code <= 0xDBFF:
					if !lowSurrogateAt(b, i+6) {
						return fmt.Errorf("it holds an unpaired surrogate \\u%04x at byte %d", code, i)
					}
					i += 11
					continue
				case code >= 0xDC00 && code <= 0xDFFF:
					return fmt.Errorf("it holds an unpaired surrogate \\u%04x at byte %d", code, i)
				}
				i += 5
				continue
			}
			i++ // the escaped character
		}
	}
	return nil
}

// lowSurrogateAt reports whether a \uDC00-\uDFFF escape starts at b[i].
func lowSurrogateAt(b []byte, i int) bool {
	if i+1 >= len(b) || b[i] != '\\' || b[i+1] != 'u' {
		return false
	}
	code, ok := hex4(b, i+2)
	return ok && code >= 0xDC00 && code <= 0xDFFF
}

// hex4 reads four hex digits at b[i:].
func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c-'a') + 10
		case c >= 'A' && c <= 'F':
			r |= rune(c-'A') + 10
		default:
			return 0, false
		}
	}
	return r, true
}
