package checker

import (
	"fmt"
	"sort"
)

// levenshtein returns the edit distance between a and b (in runes),
// counting a transposition of two adjacent runes as one edit.
func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1) // transposition
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(rb)]
}

// suggest returns the candidate closest to name, or "" when none is close
// enough to be a plausible typo: one edit for names of up to 3 runes, then
// one more per 3 runes.
func suggest(name string, candidates []string) string {
	best, bestD := "", 0
	limit := (len([]rune(name)) + 2) / 3
	if len([]rune(name)) <= 2 {
		return ""
	}
	sorted := append([]string(nil), candidates...)
	sort.Strings(sorted)
	for _, c := range sorted {
		if c == name || c == "" {
			continue
		}
		d := levenshtein(name, c)
		if d <= limit && (best == "" || d < bestD) {
			best, bestD = c, d
		}
	}
	return best
}

// didYouMean returns a hint `did you mean "x"?` or "".
func didYouMean(name string, candidates []string) string {
	if s := suggest(name, candidates); s != "" {
		return fmt.Sprintf("did you mean %q?", s)
	}
	return ""
}

// joinSorted joins names sorted and de-duplicated.
func joinSorted(names []string) string {
	s := append([]string(nil), names...)
	sort.Strings(s)
	out := s[:0]
	for i, n := range s {
		if i == 0 || n != s[i-1] {
			out = append(out, n)
		}
	}
	res := ""
	for i, n := range out {
		if i > 0 {
			res += ", "
		}
		res += n
	}
	return res
}
