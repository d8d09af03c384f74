package order_test

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

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// shopDB is one test database with plain-SQL helpers for the order tests.
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

// run is t.Run with the helpers bound to the subtest.
func (d *shopDB) run(t *testing.T, name string, fn func(t *testing.T, d *shopDB)) {
	t.Run(name, func(t *testing.T) { fn(t, &shopDB{DB: d.DB, t: t, sql: d.sql}) })
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

// sku adds a launched SKU of spu.
func (d *shopDB) sku(spu int64, name, price string, stock int) int64 {
	d.t.Helper()
	now := time.Now().UTC()
	return d.insert("tb_sku", "create_time, update_time, name, caption, spu_id, category_id, price, cost_price, market_price, stock, sales, comments, is_launched, default_image",
		now, now, name, "", spu, 1, price, price, price, stock, 0, 0, true, "/static/img/logo.svg")
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

func (d *shopDB) orders() int { d.t.Helper(); return d.int("SELECT COUNT(*) FROM tb_order_info") }
func (d *shopDB) lines() int  { d.t.Helper(); return d.int("SELECT COUNT(*) FROM tb_order_goods") }

func (d *shopDB) snapshot() *testkit.Snapshot {
	d.t.Helper()
	s, err := testkit.TakeSnapshot(context.Background(), d.Store)
	if err != nil {
		d.t.Fatal(err)
	}
	return s
}

// checkInvariants fails the test for every invariant that does not hold.
func (d *shopDB) checkInvariants(before *testkit.Snapshot, seen testkit.Outcome) {
	d.t.Helper()
	bad, err := testkit.CheckInvariants(context.Background(), d.Store, before, seen)
	if err != nil {
		d.t.Fatal(err)
	}
	for _, v := range bad {
		d.t.Errorf("invariant broken: %s", v)
	}
}

// failLinesOf installs a trigger that fails every insert of an order line
// for sku: a real database fault in the middle of a commit.
func (d *shopDB) failLinesOf(sku int64) {
	d.t.Helper()
	switch d.Name {
	case "sqlite":
		d.exec(fmt.Sprintf(`CREATE TRIGGER fail_line BEFORE INSERT ON tb_order_goods WHEN NEW.sku_id = %d
			BEGIN SELECT RAISE(ABORT, 'injected fault'); END`, sku))
	case "postgres":
		d.exec(fmt.Sprintf(`CREATE FUNCTION fail_line() RETURNS trigger AS $$
			BEGIN IF NEW.sku_id = %d THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`, sku))
		d.exec(`CREATE TRIGGER fail_line BEFORE INSERT ON tb_order_goods FOR EACH ROW EXECUTE FUNCTION fail_line()`)
	case "mysql":
		d.exec(fmt.Sprintf(`CREATE TRIGGER fail_line BEFORE INSERT ON tb_order_goods FOR EACH ROW
			BEGIN IF NEW.sku_id = %d THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'injected fault'; END IF; END`, sku))
	}
}

// newOrders returns the order commit with strategy, its queue worker running
// until the test ends.
func newOrders(t testing.TB, st *models.Store, cfg order.Config) *order.Orders {
	t.Helper()
	o := order.New(st, cfg)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- o.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("queue worker: %v", err)
		}
	})
	return o
}

var strategies = []order.Strategy{order.StrategyOptimistic, order.StrategyConditional, order.StrategyPessimistic, order.StrategyQueue}

// ledgerSKU adds a launched SKU of spu through CreateSKU, so that its
// first stock is in the ledger.
func (d *shopDB) ledgerSKU(spu int64, name string, price string, stock int) int64 {
	d.t.Helper()
	k, err := d.Store.Admin.CreateSKU(context.Background(), models.SKUInput{Name: name, SPUID: spu, CategoryID: 1,
		Price: decimal.RequireFromString(price), Stock: stock, Launched: true, LowStockThreshold: 5})
	if err != nil {
		d.t.Fatal(err)
	}
	return k.ID
}

// ledgerHolds fails the test if a SKU's stock is not the sum of its
// ledger deltas.
func (d *shopDB) ledgerHolds() {
	d.t.Helper()
	bad, err := d.Store.Ledger.LedgerMismatches(context.Background())
	if err != nil {
		d.t.Fatal(err)
	}
	if len(bad) > 0 {
		d.t.Errorf("stock != sum of ledger deltas for (sku: sum) %v", bad)
	}
}

func (d *shopDB) staff() int64 {
	d.t.Helper()
	u, err := d.Store.Accounts.CreateUser(context.Background(), models.NewUser{Username: fmt.Sprintf("staff%d", users.Add(1)),
		Password: testenv.Password, Mobile: testenv.RandomMobile(), IsStaff: true})
	if err != nil {
		d.t.Fatal(err)
	}
	return u.ID
}

func (d *shopDB) ledger(f models.LedgerFilter) []models.LedgerRow {
	d.t.Helper()
	rows, _, err := d.Store.Ledger.Ledger(context.Background(), f, 1)
	if err != nil {
		d.t.Fatal(err)
	}
	return rows
}
