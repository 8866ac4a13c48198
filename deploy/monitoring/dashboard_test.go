package monitoring

import (
	"encoding/json"
	"os"
	"testing"
)

// dashboard is what the tests read of grafana/batchinfer.json.
type dashboard struct {
	Title         string  `json:"title"`
	UID           string  `json:"uid"`
	SchemaVersion int     `json:"schemaVersion"`
	Panels        []panel `json:"panels"`
	Templating    struct {
		List []struct {
			Name  string          `json:"name"`
			Type  string          `json:"type"`
			Query json.RawMessage `json:"query"`
		} `json:"list"`
	} `json:"templating"`
	Annotations struct {
		List []struct {
			Expr string `json:"expr"`
		} `json:"list"`
	} `json:"annotations"`
}

type panel struct {
	ID          int    `json:"id"`
	Type        string `json:"type"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Datasource  struct {
		Type string `json:"type"`
		UID  string `json:"uid"`
	} `json:"datasource"`
	GridPos struct{ X, Y, W, H int } `json:"gridPos"`
	Targets []struct {
		RefID string `json:"refId"`
		Expr  string `json:"expr"`
	} `json:"targets"`
}

func loadDashboard(t *testing.T) dashboard {
	t.Helper()
	b, err := os.ReadFile("grafana/batchinfer.json")
	if err != nil {
		t.Fatal(err)
	}
	var d dashboard
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("grafana/batchinfer.json: %v", err)
	}
	return d
}

// queries are every PromQL expression of the dashboard: its panels',
// its variables' and its annotations'.
func (d dashboard) queries() []string {
	var out []string
	for _, p := range d.Panels {
		for _, tg := range p.Targets {
			out = append(out, tg.Expr)
		}
	}
	for _, v := range d.Templating.List {
		var q struct {
			Query string `json:"query"`
		}
		if v.Type == "query" && json.Unmarshal(v.Query, &q) == nil {
			out = append(out, labelValuesMetric(q.Query))
		}
	}
	for _, a := range d.Annotations.List {
		out = append(out, a.Expr)
	}
	return out
}

// labelValuesMetric is the metric of a Grafana label_values(metric, label)
// variable query.
func labelValuesMetric(q string) string {
	if m := labelValuesQuery.FindStringSubmatch(q); m != nil {
		return m[1]
	}
	return q
}

// The dashboard is one Grafana can import: a title and uid, a data source
// variable every panel uses, panels with unique ids, each with a title, a
// description and queries with unique refIds, laid out on the 24-column
// grid without overlap.
func TestDashboardShape(t *testing.T) {
	d := loadDashboard(t)
	if d.Title == "" || d.UID == "" || d.SchemaVersion < 30 {
		t.Fatalf("title %q, uid %q, schemaVersion %d: want a title, a uid and a current schema", d.Title, d.UID, d.SchemaVersion)
	}
	ds := false
	for _, v := range d.Templating.List {
		ds = ds || (v.Name == "datasource" && v.Type == "datasource")
	}
	if !ds {
		t.Error("no datasource variable: the dashboard would be bound to one Prometheus")
	}
	ids := map[int]bool{}
	var placed []panel
	for _, p := range d.Panels {
		if ids[p.ID] {
			t.Errorf("panel id %d twice", p.ID)
		}
		ids[p.ID] = true
		g := p.GridPos
		if g.W <= 0 || g.H <= 0 || g.X < 0 || g.X+g.W > 24 {
			t.Errorf("panel %q: grid position %+v is off the 24-column grid", p.Title, g)
		}
		for _, q := range placed {
			if overlap(p, q) {
				t.Errorf("panels %q and %q overlap", p.Title, q.Title)
			}
		}
		placed = append(placed, p)
		if p.Type == "row" {
			continue
		}
		checkPanel(t, p)
	}
	if len(placed) < 10 {
		t.Errorf("%d panels: the dashboard is missing most of its content", len(placed))
	}
}

func checkPanel(t *testing.T, p panel) {
	t.Helper()
	if p.Title == "" || p.Description == "" {
		t.Errorf("panel %d: a title and a description are needed (%q, %q)", p.ID, p.Title, p.Description)
	}
	if p.Datasource.Type != "prometheus" || p.Datasource.UID != "${datasource}" {
		t.Errorf("panel %q: data source %+v, want the ${datasource} variable", p.Title, p.Datasource)
	}
	if len(p.Targets) == 0 {
		t.Errorf("panel %q has no query", p.Title)
	}
	refs := map[string]bool{}
	for _, tg := range p.Targets {
		if tg.Expr == "" || refs[tg.RefID] || tg.RefID == "" {
			t.Errorf("panel %q: query %q with refId %q (empty or repeated)", p.Title, tg.Expr, tg.RefID)
		}
		refs[tg.RefID] = true
		if len(metricNames(tg.Expr)) == 0 {
			t.Errorf("panel %q: query %q selects no metric", p.Title, tg.Expr)
		}
	}
}

func overlap(a, b panel) bool {
	ga, gb := a.GridPos, b.GridPos
	return ga.X < gb.X+gb.W && gb.X < ga.X+ga.W && ga.Y < gb.Y+gb.H && gb.Y < ga.Y+ga.H
}
