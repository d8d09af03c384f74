package order_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// The test databases and their plain-SQL helpers, shared with the admin
// tests of models (testenv.ShopDB).
type (
	shopDB   = testenv.ShopDB
	counters = testenv.Counters
)

var orderDBs = testenv.ShopDBs

// failLinesOf installs a trigger that fails every insert of an order line
// for sku: a real database fault in the middle of a commit.
func failLinesOf(d *shopDB, sku int64) {
	d.T.Helper()
	switch d.Name {
	case "sqlite":
		d.Exec(fmt.Sprintf(`CREATE TRIGGER fail_line BEFORE INSERT ON tb_order_goods WHEN NEW.sku_id = %d
			BEGIN SELECT RAISE(ABORT, 'injected fault'); END`, sku))
	case "postgres":
		d.Exec(fmt.Sprintf(`CREATE FUNCTION fail_line() RETURNS trigger AS $$
			BEGIN IF NEW.sku_id = %d THEN RAISE EXCEPTION 'injected fault'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql`, sku))
		d.Exec(`CREATE TRIGGER fail_line BEFORE INSERT ON tb_order_goods FOR EACH ROW EXECUTE FUNCTION fail_line()`)
	case "mysql":
		d.Exec(fmt.Sprintf(`CREATE TRIGGER fail_line BEFORE INSERT ON tb_order_goods FOR EACH ROW
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
