package deploycheck

import (
	"fmt"
	"strings"
)

// shellWords splits one simple shell command the way sh would: words
// separated by blanks, single quotes taken literally, double quotes with
// backslash escapes, and $NAME or ${NAME} replaced by lookup (nil: no
// expansion; a name lookup does not know is an error). Anything that would
// make more than one simple command (; & | < > ( ) `, $(...)) is refused, so
// that what is returned is exactly what the shell would run.
func shellWords(s string, lookup func(string) (string, bool)) ([]string, error) {
	var (
		words   []string
		cur     strings.Builder
		inWord  bool
		quote   byte // 0, '\'' or '"'
		expand  = lookup != nil
		runes   = []byte(s)
		mustEnd = func() {
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		}
	)
	for i := 0; i < len(runes); i++ {
		c := runes[i]
		switch {
		case quote == '\'':
			if c == '\'' {
				quote = 0
			} else {
				cur.WriteByte(c)
			}
		case c == '\\':
			if i+1 >= len(runes) {
				return nil, fmt.Errorf("a backslash ends %q", s)
			}
			next := runes[i+1]
			if quote == '"' && !strings.ContainsRune("\"\\$`", rune(next)) {
				cur.WriteByte(c)
			}
			cur.WriteByte(next)
			inWord = true
			i++
		case quote == '"' && c == '"':
			quote = 0
		case c == '$' && expand:
			name, n, err := varName(runes[i+1:])
			if err != nil {
				return nil, fmt.Errorf("%q: %w", s, err)
			}
			v, ok := lookup(name)
			if !ok {
				return nil, fmt.Errorf("%q: $%s is not set", s, name)
			}
			cur.WriteString(v)
			inWord = true
			i += n
		case quote == '"':
			if c == '`' {
				return nil, fmt.Errorf("%q: command substitution", s)
			}
			cur.WriteByte(c)
		case c == '\'' || c == '"':
			quote = c
			inWord = true
		case c == ' ' || c == '\t':
			mustEnd()
		case strings.IndexByte(";&|<>()`", c) >= 0:
			return nil, fmt.Errorf("%q: %q makes it more than one simple command", s, c)
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, fmt.Errorf("%q: unterminated %c quote", s, quote)
	}
	mustEnd()
	return words, nil
}

// varName reads the name after a $: NAME or {NAME}, returning it and the
// bytes it took.
func varName(b []byte) (string, int, error) {
	isName := func(c byte, first bool) bool {
		return c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || !first && c >= '0' && c <= '9'
	}
	if len(b) > 0 && b[0] == '{' {
		end := strings.IndexByte(string(b), '}')
		if end < 0 {
			return "", 0, fmt.Errorf("unterminated ${")
		}
		name := string(b[1:end])
		for i := 0; i < len(name); i++ {
			if !isName(name[i], i == 0) {
				return "", 0, fmt.Errorf("${%s}: only plain ${NAME} is understood", name)
			}
		}
		if name == "" {
			return "", 0, fmt.Errorf("empty ${}")
		}
		return name, end + 1, nil
	}
	n := 0
	for n < len(b) && isName(b[n], n == 0) {
		n++
	}
	if n == 0 {
		return "", 0, fmt.Errorf("a $ not followed by a name (command substitution or special parameter)")
	}
	return string(b[:n]), n, nil
}
