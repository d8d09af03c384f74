package main

import (
	"os"
	"path/filepath"
	"testing"
)

// The committed migrations are what the generator writes from the
// committed data file.
func TestMigrationsCurrent(t *testing.T) {
	for _, d := range dialects {
		want, err := generate(pcaCode, d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join("..", "..", "migrations", d, Version))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != string(want) {
			t.Errorf("migrations/%s/%s is stale: run go run ./internal/areasgen", d, Version)
		}
	}
}

func TestRows(t *testing.T) {
	rs, err := rows(pcaCode)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(rs), 31+342+3056; got != want {
		t.Errorf("rows: got %d, want %d", got, want)
	}
	byID := map[int64]row{}
	for _, r := range rs {
		byID[r.id] = r
	}
	for _, c := range []struct {
		id, parent int64
		name       string
	}{
		{110000, 0, "北京市"},
		{110100, 110000, "市辖区"},
		{110108, 110100, "海淀区"},
		{440305, 440300, "南山区"},
		{441900003, 441900, "东城街道"},
	} {
		if got := byID[c.id]; got.name != c.name || got.parent != c.parent {
			t.Errorf("row %d: got %q parent %d, want %q parent %d", c.id, got.name, got.parent, c.name, c.parent)
		}
	}
}
