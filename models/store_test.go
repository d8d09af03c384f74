package models_test

import (
	"context"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
)

func TestMigrateIsIdempotentAndCreatesTables(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			res, err := db.Store.Migrate(ctx)
			if err != nil {
				t.Fatalf("second migrate: %v", err)
			}
			if len(res) != 0 {
				t.Errorf("second migrate applied %d migrations, want 0", len(res))
			}
			sqlDB, err := db.Store.SQL()
			if err != nil {
				t.Fatal(err)
			}
			for _, table := range []string{"tb_users", "tb_address", "tb_goods_category", "tb_spu", "tb_sku", "tb_order_info", "tb_order_goods"} {
				var n int
				if err := sqlDB.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&n); err != nil {
					t.Errorf("table %s: %v", table, err)
				}
			}
		})
	}
}
