package models_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/models"
)

// A stock adjustment whose COMMIT succeeded and lost its answer is made
// once: a delivery of 7 adds 7 and one ledger entry, not 14 units that do
// not exist. Two timings, as in models/order's TestCommitAnswerLost:
// answered (the proxy drops the server's reply), and late (the client's
// connection closes first, and the COMMIT lands only once the retry waits
// for the SKU's row). PostgreSQL and MariaDB only: SQLite's COMMIT is a
// call in the process, whose answer cannot be lost on the way.
func TestAdjustStockCommitAnswerLost(t *testing.T) {
	for _, d := range orderDBs(t) {
		if d.Name == "sqlite" {
			continue
		}
		for _, late := range []bool{false, true} {
			timing := "answered"
			if late {
				timing = "late"
			}
			d.Run(t, d.Name+"/"+timing, func(t *testing.T, d *shopDB) {
				ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
				defer cancel()
				proxy := faults.NewDBProxy(t, d.URL)
				url, waiting := skuWaits(t, d, proxy.Through(d.URL))
				st, err := models.Open(ctx, url, models.Options{MaxOpenConns: 2})
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				staff := d.Staff()
				sku := d.LedgerSKU(d.SPU("adjust"), "adjust", "1.00", 3)

				var e *models.LedgerEntry
				adjust := func() {
					e, err = st.Admin.AdjustStock(ctx, models.Adjustment{SKUID: sku, Delta: 7, StaffID: staff, Note: "delivery"})
				}
				if !late {
					proxy.LoseAnswerTo("COMMIT")
					adjust()
				} else {
					deliver := proxy.LoseAnswerLate("COMMIT")
					defer deliver()
					done := make(chan struct{})
					go func() { defer close(done); adjust() }()
					// Once the COMMIT is held, a statement on the SKU is
					// the retry's.
					for proxy.Lost() == 0 || waiting() == 0 {
						select {
						case <-done:
							t.Fatalf("the adjustment ended (%v) before its retry waited for the SKU", err)
						case <-time.After(5 * time.Millisecond):
						}
					}
					deliver()
					<-done
				}
				if err != nil {
					t.Fatalf("AdjustStock after its COMMIT lost its answer: %v", err)
				}
				if n := proxy.Lost(); n != 1 {
					t.Fatalf("%d answers lost, want 1: the fault did not happen", n)
				}
				if got := d.SKUNow(sku).Stock; got != 10 || e.StockAfter != 10 {
					t.Errorf("stock %d, entry's stock after %d; want 10", got, e.StockAfter)
				}
				if n := d.Int("SELECT COUNT(*) FROM tb_stock_ledger WHERE sku_id = ? AND reason = ?", sku, models.ReasonAdjust); n != 1 {
					t.Errorf("%d adjustments in the ledger, want 1", n)
				}
				d.LedgerHolds()
			})
		}
	}
}

// skuWaits returns the store's URL, tagged so that its connections can be
// told apart on PostgreSQL, and a count of those connections that wait for
// a lock (on MariaDB: that run a statement on tb_sku).
func skuWaits(t *testing.T, d *shopDB, url string) (string, func() int) {
	t.Helper()
	switch d.Name {
	case "postgres":
		b := make([]byte, 6)
		rand.Read(b)
		app := "lostadjust_" + hex.EncodeToString(b)
		return faults.PostgresURLWithAppName(url, app), func() int {
			return d.Int("SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'", app)
		}
	case "mysql":
		name := d.URL[strings.LastIndexByte(d.URL, '/')+1:]
		name, _, _ = strings.Cut(name, "?")
		return url, func() int {
			return d.Int("SELECT COUNT(*) FROM information_schema.PROCESSLIST WHERE DB = ? AND ID <> CONNECTION_ID() AND INFO LIKE '%tb_sku%'", name)
		}
	}
	t.Fatalf("no lock waits to watch on %s", d.Name)
	return "", nil
}
