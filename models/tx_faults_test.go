package models_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/meiduo/shop/internal/faults"
	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

// cutStore returns a store on db's schema whose connections cut ends from
// the server side: pg_terminate_backend on PostgreSQL (a pool tagged with
// its own application_name), KILL CONNECTION on MariaDB (every connection
// to the test's private database).
func cutStore(t *testing.T, db testenv.DB) (st *models.Store, cut func()) {
	t.Helper()
	switch db.Name {
	case "postgres":
		b := make([]byte, 6)
		rand.Read(b)
		app := "txfault_" + hex.EncodeToString(b)
		st, err := models.Open(context.Background(), faults.PostgresURLWithAppName(db.URL, app), models.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		admin := os.Getenv("TEST_POSTGRES_URL")
		return st, func() {
			if faults.TerminatePostgres(t, admin, app) == 0 {
				t.Fatal("no connection to terminate")
			}
		}
	case "mysql":
		name := db.URL[strings.LastIndexByte(db.URL, '/')+1:]
		name, _, _ = strings.Cut(name, "?")
		admin := os.Getenv("TEST_MYSQL_URL")
		return db.Store, func() {
			if faults.KillMySQL(t, admin, name) == 0 {
				t.Fatal("no connection to kill")
			}
		}
	}
	t.Fatalf("no connections to cut on %s", db.Name)
	return nil, nil
}

// A connection the server ends (pgx: 57P01, "conn closed", EOF; MariaDB:
// "invalid connection", 1927, 2013) before, during or at the COMMIT of a
// transaction makes Transact run the whole transaction again on a fresh
// connection; the first try leaves nothing behind, and a try after a lost
// COMMIT is told it is unsure.
func TestTransactRetriesLostConnections(t *testing.T) {
	tests := []struct {
		name string
		// cutAt is the statement after which the first try's connection
		// is cut: 0 before BEGIN (an idle pool), 1 after the first of
		// two, 2 after the second, before COMMIT.
		cutAt      int
		wantUnsure bool
		label      string // the row written (tb_goods_category.name holds 10)
	}{
		{"idle pool", 0, false, "cut idle"},
		{"mid-transaction", 1, false, "cut mid"},
		{"before COMMIT", 2, true, "cut commit"},
	}
	for _, name := range []string{"postgres", "mysql"} {
		db, ok := testenv.Database(t, name)
		if !ok {
			continue
		}
		t.Run(name, func(t *testing.T) {
			st, cut := cutStore(t, db)
			for _, tc := range tests {
				t.Run(tc.name, func(t *testing.T) {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					label := tc.label
					if err := st.Ping(ctx); err != nil { // a connection in the pool to cut
						t.Fatal(err)
					}
					if tc.cutAt == 0 {
						cut()
					}
					tries, unsure := 0, false
					err := st.Transact(ctx, func(tx *models.Tx) error {
						tries++
						unsure = tx.Unsure
						stmts := []func() error{
							func() error {
								return tx.Exec("INSERT INTO tb_goods_category (create_time, update_time, name) VALUES (?, ?, ?)", tx.Now, tx.Now, label).Error
							},
							func() error {
								return tx.Exec("UPDATE tb_goods_category SET update_time = ? WHERE name = ?", tx.Now, label).Error
							},
						}
						for i, stmt := range stmts {
							if err := stmt(); err != nil {
								if !models.Transient(err) {
									t.Errorf("try %d, statement %d: %v is not transient", tries, i+1, err)
								}
								t.Logf("try %d, statement %d: %v", tries, i+1, err)
								return err
							}
							if tries == 1 && tc.cutAt == i+1 {
								cut()
							}
						}
						return nil
					})
					if err != nil {
						t.Fatalf("Transact: %v", err)
					}
					if tc.cutAt > 0 && tries != 2 {
						t.Errorf("%d tries, want 2", tries)
					}
					if unsure != tc.wantUnsure {
						t.Errorf("last try unsure %v, want %v", unsure, tc.wantUnsure)
					}
					var n int64
					if err := db.Store.Gorm().Model(&models.Category{}).Where("name = ?", label).Count(&n).Error; err != nil {
						t.Fatal(err)
					}
					if n != 1 {
						t.Errorf("%d rows written, want 1", n)
					}
				})
			}
		})
	}
}
