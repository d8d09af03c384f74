package migrations

import (
	"io/fs"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// The three dialect folders must hold the same migration files.
func TestDialectsAgree(t *testing.T) {
	list := func(d Dialect) []string {
		names, err := fs.Glob(files, string(d)+"/*.sql")
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, n := range names {
			out = append(out, n[len(d)+1:])
		}
		return out
	}
	want := list(SQLite)
	if len(want) == 0 {
		t.Fatal("no sqlite migrations embedded")
	}
	for _, d := range []Dialect{Postgres, MySQL} {
		if diff := cmp.Diff(want, list(d)); diff != "" {
			t.Errorf("%s migrations differ from sqlite (-sqlite +%s):\n%s", d, d, diff)
		}
	}
}
