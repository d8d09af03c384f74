package models_test

import (
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/testenv"
)

// The part of models/order's order_fixtures_test.go that the admin tests
// use: a test database with plain-SQL helpers. The order tests have the
// rest (strategies, invariants, faults).

// shopDB is one test database with plain-SQL helpers for the admin tests.
type shopDB struct {
	testenv.DB
	t   testing.TB
	sql *sql.DB
}

// orderDBs returns every configured database, with a category ready.
func orderDBs(t testing.TB) []*shopDB {
	t.Helper()
	var out []*shopDB
	for _, db := range testenv.Databases(t) {
		sqlDB, err := db.Store.SQL()
		if err != nil {
			t.Fatal(err)
		}
		d := &shopDB{DB: db, t: t, sql: sqlDB}
		now := time.Now().UTC()
		d.exec("INSERT INTO tb_goods_category (id, create_time, update_time, name, parent_id) VALUES (1, ?, ?, 'Orders', NULL)", now, now)
		out = append(out, d)
	}
	return out
}

func (d *shopDB) query(q string) string {
	if d.Name != "postgres" {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func (d *shopDB) exec(q string, args ...any) {
	d.t.Helper()
	if _, err := d.sql.Exec(d.query(q), args...); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
}

// int returns the first column of the first row as an int.
func (d *shopDB) int(q string, args ...any) int {
	d.t.Helper()
	var n sql.NullInt64
	if err := d.sql.QueryRow(d.query(q), args...).Scan(&n); err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	return int(n.Int64)
}

// insert adds a row and returns its id.
func (d *shopDB) insert(table, cols string, args ...any) int64 {
	d.t.Helper()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, cols, marks)
	if d.Name == "postgres" {
		var id int64
		if err := d.sql.QueryRow(d.query(q+" RETURNING id"), args...).Scan(&id); err != nil {
			d.t.Fatalf("%s: %v", q, err)
		}
		return id
	}
	res, err := d.sql.Exec(q, args...)
	if err != nil {
		d.t.Fatalf("%s: %v", q, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		d.t.Fatal(err)
	}
	return id
}

func (d *shopDB) spu(name string) int64 {
	d.t.Helper()
	now := time.Now().UTC()
	return d.insert("tb_spu", "create_time, update_time, name, sales, comments, category_id, desc_detail", now, now, name, 0, 0, 1, "")
}

var users atomic.Int64

// buyer adds a user with an address and returns both ids.
func (d *shopDB) buyer() (uid, addressID int64) {
	d.t.Helper()
	u := testenv.CreateUser(d.t, d.Store, fmt.Sprintf("buyer%d", users.Add(1)))
	a := testenv.CreateAddress(d.t, d.Store, u.ID)
	return u.ID, a.ID
}

type counters struct{ stock, sales int }

func (d *shopDB) skuNow(id int64) counters {
	d.t.Helper()
	return counters{d.int("SELECT stock FROM tb_sku WHERE id = ?", id), d.int("SELECT sales FROM tb_sku WHERE id = ?", id)}
}
