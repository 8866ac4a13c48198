package model

import "strings"

// CompareVersions orders version strings naturally: runs of digits compare as
// numbers ("2" < "10"), everything else byte by byte. It returns -1, 0 or +1.
func CompareVersions(a, b string) int {
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digitRun(a)
			nb, rb := digitRun(b)
			// Compare the runs as numbers without overflow: strip leading
			// zeros, then the longer run is larger.
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if c := len(ta) - len(tb); c != 0 {
				return sign(c)
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			if c := len(na) - len(nb); c != 0 {
				return sign(c)
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			if da != db {
				// Numbers sort before other characters.
				if da {
					return -1
				}
				return 1
			}
			if a[0] < b[0] {
				return -1
			}
			return 1
		}
		a, b = a[1:], b[1:]
	}
	return sign(len(a) - len(b))
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digitRun(s string) (run, rest string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
