// Package testkit holds what tests and the load tool (shop bench) need of
// the database and the shop never does: fixtures made in bulk (SKUs to
// buy, buyers with addresses) and the invariants of the order commit,
// checked with SQL.
package testkit

import (
	"context"
	"fmt"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// CreateBenchSKUs makes a category, an SPU and n launched SKUs with the
// given stock and price, for a load test to buy from, and returns their
// ids in ascending order. label names them, so runs can be told apart.
func CreateBenchSKUs(ctx context.Context, st *models.Store, label string, n, stock int, price decimal.Decimal) ([]int64, error) {
	if n < 1 || stock < 0 || price.IsNegative() {
		return nil, fmt.Errorf("bench skus: %w: n=%d stock=%d price=%s", models.ErrInvalid, n, stock, price)
	}
	now := time.Now().UTC()
	ids := make([]int64, 0, n)
	err := st.Transact(ctx, func(tx *models.Tx) error {
		ids = ids[:0]
		cat := models.Category{Name: "压测", CreateTime: now, UpdateTime: now}
		if err := tx.Create(&cat).Error; err != nil {
			return err
		}
		spu := models.SPU{Name: "压测商品 " + label, CategoryID: cat.ID, CreateTime: now, UpdateTime: now}
		if err := tx.Create(&spu).Error; err != nil {
			return err
		}
		skus := make([]models.SKU, n)
		for i := range skus {
			skus[i] = models.SKU{
				Name: fmt.Sprintf("压测 %s #%d", label, i+1), SPUID: spu.ID, CategoryID: cat.ID,
				Price: price, CostPrice: price, MarketPrice: price, Stock: stock, IsLaunched: true,
				DefaultImage: "/static/img/logo.svg", CreateTime: now, UpdateTime: now,
			}
		}
		if err := tx.CreateInBatches(skus, 100).Error; err != nil {
			return err
		}
		if err := models.RecordInitialStock(tx, skus); err != nil {
			return err
		}
		for _, k := range skus {
			ids = append(ids, k.ID)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench skus: %w", err)
	}
	return ids, nil
}

// Analyze refreshes the planner's statistics (ANALYZE on PostgreSQL and
// SQLite; InnoDB keeps its own up to date). A load test runs it on the
// tables earlier runs filled: without statistics PostgreSQL plans the
// flash sale's look-up of 2,000 order ids as a scan of the whole table.
// Autovacuum would have run it, but it is off on some servers (this
// project's benchmark machine among them).
func Analyze(ctx context.Context, st *models.Store) error {
	s := on(st)
	if s.dialect == migrations.MySQL {
		return nil
	}
	if err := s.db.WithContext(ctx).Exec("ANALYZE").Error; err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}

// kit reads and writes the store's tables directly.
type kit struct {
	st      *models.Store
	db      *gorm.DB
	dialect migrations.Dialect
}

func on(st *models.Store) kit { return kit{st: st, db: st.Gorm(), dialect: st.Dialect()} }
