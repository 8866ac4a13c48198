package monitoring

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

// The PromQL words that are not metric names.
var promqlKeywords = map[string]bool{
	"and": true, "or": true, "unless": true, "bool": true, "offset": true, "by": true, "without": true,
	"on": true, "ignoring": true, "group_left": true, "group_right": true, "inf": true, "nan": true,
	"start": true, "end": true,
}

var (
	promqlStrings  = regexp.MustCompile("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")
	promqlMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promqlRanges   = regexp.MustCompile(`\[[^\]]*\]`)
	promqlGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promqlIdent    = regexp.MustCompile(`[a-zA-Z_:][a-zA-Z0-9_:]*`)
)

// metricNames returns the metric names a PromQL expression selects, sorted
// and without repeats: the identifiers left once strings, label matchers,
// ranges and grouping labels are taken out, less function calls and
// keywords. It is a reader for our own rules and dashboards, not a parser
// of every PromQL expression.
func metricNames(expr string) []string {
	e := promqlStrings.ReplaceAllString(expr, `""`)
	e = promqlMatchers.ReplaceAllString(e, " ")
	e = promqlRanges.ReplaceAllString(e, " ")
	e = promqlGrouping.ReplaceAllString(e, " ")
	var out []string
	for _, loc := range promqlIdent.FindAllStringIndex(e, -1) {
		name := e[loc[0]:loc[1]]
		if loc[0] > 0 && strings.ContainsRune("0123456789.$", rune(e[loc[0]-1])) {
			continue // a number's exponent or a variable
		}
		call := strings.HasPrefix(strings.TrimLeft(e[loc[1]:], " \t\n"), "(")
		if call || promqlKeywords[strings.ToLower(name)] {
			continue
		}
		out = append(out, name)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func TestMetricNames(t *testing.T) {
	for _, tc := range []struct {
		expr string
		want []string
	}{
		{`up`, []string{"up"}},
		{`max by (model, tenant) (scheduler_oldest_pending_seconds) > 1800`, []string{"scheduler_oldest_pending_seconds"}},
		{`sum by (le) (rate(gateway_predict_latency_seconds_bucket{model=~"$model", x="a{b}"}[$__rate_interval]))`,
			[]string{"gateway_predict_latency_seconds_bucket"}},
		{"(max by (model) (a_b) == 0)\n  and on (model)\n  (sum by (model) (c_d offset 5m) > 0)", []string{"a_b", "c_d"}},
		{`histogram_quantile(0.99, sum(rate(x_bucket[5m])) by (le)) > 2.5e3`, []string{"x_bucket"}},
		{`rate(foo[5m:1m]) / ignoring (code) group_left (route) bar unless baz or bool_metric`, []string{"bar", "baz", "bool_metric", "foo"}},
		{`max(delta(s{stream="DEADLETTER"}[15m])) > 0 and vector(1)`, []string{"s"}},
		{`label_replace(m, "dst", "$1", "src", "(.*)")`, []string{"m"}},
	} {
		if got := metricNames(tc.expr); !slices.Equal(got, tc.want) {
			t.Errorf("metricNames(%q) = %q, want %q", tc.expr, got, tc.want)
		}
	}
}

// labelValuesQuery is a Grafana variable query label_values(metric, label).
var labelValuesQuery = regexp.MustCompile(`^\s*label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$`)
