package models_test

import (
	"context"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
)

// Every migration's +goose Down section runs on every database: migrating
// to 0 rolls them all back, newest first, and migrating again applies
// them all; MigrationsPending says so in between.
func TestMigrateDownAndUpAgain(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			all, err := db.Store.Migrations(ctx)
			if err != nil || len(all) == 0 {
				t.Fatalf("migrations: %v, %v", all, err)
			}
			down, err := db.Store.MigrateTo(ctx, 0)
			if err != nil {
				t.Fatalf("migrate to 0: %v (rolled back %v)", err, down)
			}
			if len(down) != len(all) || down[0].Version != all[len(all)-1].Version || !down[0].Down {
				t.Errorf("migrate to 0 rolled back %+v; want all %d, newest first", down, len(all))
			}
			if pending, err := db.Store.MigrationsPending(ctx); err != nil || !pending {
				t.Errorf("after migrating to 0: pending %v, %v; want true", pending, err)
			}
			up, err := db.Store.Migrate(ctx)
			if err != nil || len(up) != len(all) {
				t.Fatalf("migrate again: applied %d, %v; want %d", len(up), err, len(all))
			}
			if pending, err := db.Store.MigrationsPending(ctx); err != nil || pending {
				t.Errorf("after migrating again: pending %v, %v; want false", pending, err)
			}
		})
	}
}
