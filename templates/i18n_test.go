package templates

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"testing"
)

// keyUse finds message keys passed as literals to the catalog's callers:
// T, Tf, p.T, p.Tf, reject, rejectf, and badField's reason.
var keyUse = regexp.MustCompile(`(?:\bT|\bTf|\breject|\brejectf)\((?:[A-Za-z_.]+\(?[a-z]*\)?,\s*)?"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"|badField\("[^"]*",\s*"([a-z][a-z0-9_]*(?:\.[a-z0-9_]+)+)"`)

// Every key used in templates and handlers exists, in both languages.
func TestCatalogComplete(t *testing.T) {
	for key, texts := range catalog {
		for l, s := range texts {
			if s == "" {
				t.Errorf("message %q has no text in language %d", key, l)
			}
		}
	}
	var files []string
	for _, pattern := range []string{"*.templ", "*.go", "../handlers/*.go"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	missing := map[string]string{}
	used := 0
	for _, f := range files {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range keyUse.FindAllStringSubmatch(string(src), -1) {
			key := m[1] + m[2]
			used++
			if _, ok := catalog[key]; !ok {
				missing[key] = f
			}
		}
	}
	if used < 50 {
		t.Fatalf("found only %d key uses; the pattern no longer matches the code", used)
	}
	keys := make([]string, 0, len(missing))
	for k := range missing {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		t.Errorf("message key %q (used in %s) is not in the catalog", k, missing[k])
	}
}

func TestParseLang(t *testing.T) {
	tests := []struct {
		choice, accept string
		want           Lang
	}{
		{"", "", Chinese},
		{"en", "zh-CN", English},
		{"zh", "en-US,en;q=0.9", Chinese},
		{"", "en-US,en;q=0.9", English},
		{"", "zh-TW,zh;q=0.9", Chinese},
		{"", "fr-FR", Chinese},
		{"", "garbage;;;", Chinese},
	}
	for _, tt := range tests {
		if got := ParseLang(tt.choice, tt.accept); got != tt.want {
			t.Errorf("ParseLang(%q, %q) = %d, want %d", tt.choice, tt.accept, got, tt.want)
		}
	}
}
