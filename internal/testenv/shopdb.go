package testenv

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/testkit"
)

// ShopDB is one test database with plain-SQL helpers, for the tests of
// models and models/order: rows written behind the store's back, and the
// counts and invariants read back. Its helpers fail T on any error.
type ShopDB struct {
	DB
	T   testing.TB
	SQL *sql.DB
}

// ShopDBs returns every configured database (Databases), each with the
// category 1 that SKU and SPU take.
func ShopDBs(t testing.TB) []*ShopDB {
	t.Helper()
	var out []*ShopDB
	for _, db := range Databases(t) {
		sqlDB, err := db.Store.SQL()
		if err != nil {
			t.Fatal(err)
		}
		d := &ShopDB{DB: db, T: t, SQL: sqlDB}
		now := time.Now().UTC()
		d.Exec("INSERT INTO tb_goods_category (id, create_time, update_time, name, parent_id) VALUES (1, ?, ?, 'Orders', NULL)", now, now)
		out = append(out, d)
	}
	return out
}

// Run is t.Run with the helpers bound to the subtest.
func (d *ShopDB) Run(t *testing.T, name string, fn func(t *testing.T, d *ShopDB)) {
	t.Run(name, func(t *testing.T) { fn(t, d.For(t)) })
}

// For returns the helpers bound to t.
func (d *ShopDB) For(t testing.TB) *ShopDB { return &ShopDB{DB: d.DB, T: t, SQL: d.SQL} }

// Query turns the ? placeholders of q into PostgreSQL's $1, $2, ... there.
func (d *ShopDB) Query(q string) string {
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

// Exec runs a statement.
func (d *ShopDB) Exec(q string, args ...any) {
	d.T.Helper()
	if _, err := d.SQL.Exec(d.Query(q), args...); err != nil {
		d.T.Fatalf("%s: %v", q, err)
	}
}

// Int returns the first column of the first row as an int (NULL is 0).
func (d *ShopDB) Int(q string, args ...any) int {
	d.T.Helper()
	var n sql.NullInt64
	if err := d.SQL.QueryRow(d.Query(q), args...).Scan(&n); err != nil {
		d.T.Fatalf("%s: %v", q, err)
	}
	return int(n.Int64)
}

// Insert adds a row and returns its id.
func (d *ShopDB) Insert(table, cols string, args ...any) int64 {
	d.T.Helper()
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(args)), ", ")
	q := fmt.Sprintf("INSERT INTO %s (%s) VALUES (%s)", table, cols, marks)
	if d.Name == "postgres" {
		var id int64
		if err := d.SQL.QueryRow(d.Query(q+" RETURNING id"), args...).Scan(&id); err != nil {
			d.T.Fatalf("%s: %v", q, err)
		}
		return id
	}
	res, err := d.SQL.Exec(q, args...)
	if err != nil {
		d.T.Fatalf("%s: %v", q, err)
	}
	id, err := res.LastInsertId()
	if err != nil {
		d.T.Fatal(err)
	}
	return id
}

// SPU adds an SPU of category 1.
func (d *ShopDB) SPU(name string) int64 {
	d.T.Helper()
	now := time.Now().UTC()
	return d.Insert("tb_spu", "create_time, update_time, name, sales, comments, category_id, desc_detail", now, now, name, 0, 0, 1, "")
}

// SKU adds a launched SKU of spu, written directly (no ledger entry).
func (d *ShopDB) SKU(spu int64, name, price string, stock int) int64 {
	d.T.Helper()
	now := time.Now().UTC()
	return d.Insert("tb_sku", "create_time, update_time, name, caption, spu_id, category_id, price, cost_price, market_price, stock, sales, comments, is_launched, default_image",
		now, now, name, "", spu, 1, price, price, price, stock, 0, 0, true, "/static/img/logo.svg")
}

// LedgerSKU adds a launched SKU of spu through CreateSKU, so that its
// first stock is in the ledger.
func (d *ShopDB) LedgerSKU(spu int64, name string, price string, stock int) int64 {
	d.T.Helper()
	k, err := d.Store.Admin.CreateSKU(context.Background(), models.SKUInput{Name: name, SPUID: spu, CategoryID: 1,
		Price: decimal.RequireFromString(price), Stock: stock, Launched: true, LowStockThreshold: 5})
	if err != nil {
		d.T.Fatal(err)
	}
	return k.ID
}

var shopUsers atomic.Int64

// Buyer adds a user with an address and returns both ids.
func (d *ShopDB) Buyer() (uid, addressID int64) {
	d.T.Helper()
	u := CreateUser(d.T, d.Store, fmt.Sprintf("buyer%d", shopUsers.Add(1)))
	a := CreateAddress(d.T, d.Store, u.ID)
	return u.ID, a.ID
}

// Staff adds a staff user and returns its id.
func (d *ShopDB) Staff() int64 {
	d.T.Helper()
	u, err := d.Store.Accounts.CreateUser(context.Background(), models.NewUser{Username: fmt.Sprintf("staff%d", shopUsers.Add(1)),
		Password: Password, Mobile: RandomMobile(), IsStaff: true})
	if err != nil {
		d.T.Fatal(err)
	}
	return u.ID
}

// Counters are a SKU's stock and sales.
type Counters struct{ Stock, Sales int }

// SKUNow reads a SKU's stock and sales.
func (d *ShopDB) SKUNow(id int64) Counters {
	d.T.Helper()
	return Counters{d.Int("SELECT stock FROM tb_sku WHERE id = ?", id), d.Int("SELECT sales FROM tb_sku WHERE id = ?", id)}
}

// Orders counts the orders.
func (d *ShopDB) Orders() int { d.T.Helper(); return d.Int("SELECT COUNT(*) FROM tb_order_info") }

// Lines counts the order lines.
func (d *ShopDB) Lines() int { d.T.Helper(); return d.Int("SELECT COUNT(*) FROM tb_order_goods") }

// Snapshot takes what CheckInvariants compares with.
func (d *ShopDB) Snapshot() *testkit.Snapshot {
	d.T.Helper()
	s, err := testkit.TakeSnapshot(context.Background(), d.Store)
	if err != nil {
		d.T.Fatal(err)
	}
	return s
}

// CheckInvariants fails the test for every invariant that does not hold.
func (d *ShopDB) CheckInvariants(before *testkit.Snapshot, seen testkit.Outcome) {
	d.T.Helper()
	bad, err := testkit.CheckInvariants(context.Background(), d.Store, before, seen)
	if err != nil {
		d.T.Fatal(err)
	}
	for _, v := range bad {
		d.T.Errorf("invariant broken: %s", v)
	}
}

// LedgerHolds fails the test if a SKU's stock is not the sum of its
// ledger deltas.
func (d *ShopDB) LedgerHolds() {
	d.T.Helper()
	bad, err := d.Store.Ledger.LedgerMismatches(context.Background())
	if err != nil {
		d.T.Fatal(err)
	}
	if len(bad) > 0 {
		d.T.Errorf("stock != sum of ledger deltas for (sku: sum) %v", bad)
	}
}

// Ledger returns the first page of the stock ledger under f.
func (d *ShopDB) Ledger(f models.LedgerFilter) []models.LedgerRow {
	d.T.Helper()
	rows, _, err := d.Store.Ledger.Ledger(context.Background(), f, 1)
	if err != nil {
		d.T.Fatal(err)
	}
	return rows
}
