// Package models holds the shop's GORM models and its database access, one
// store per domain: Catalog, Accounts, Addresses, Areas, Admin, Ledger and Sales
// (the flash sale), all on one DB whose Transact is the one transaction
// shape of every writer. The order commit and an order's later life live
// in the sub-package order; fixtures and invariant checks for tests and
// the load tool in testkit.
//
// No package outside models imports gorm: errors leave as the sentinel
// errors of db.go, wrapped with context.
package models

import (
	"context"
	"runtime"

	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
)

// Store is the database seen by domain. Build it with Open.
type Store struct {
	*DB
	Catalog   *Catalog
	Accounts  *Accounts
	Addresses *Addresses
	Areas     *Areas
	Admin     *Admin
	Ledger    *Ledger
	Sales     *Sales
}

// Open connects to the database named by rawURL (see OpenDB) and builds
// its domain stores. It does not migrate; call Migrate.
func Open(ctx context.Context, rawURL string, o Options) (*Store, error) {
	db, err := OpenDB(ctx, rawURL, o)
	if err != nil {
		return nil, err
	}
	return New(db), nil
}

// New builds the domain stores on db.
func New(db *DB) *Store {
	h := handle{db: db.db, dialect: db.dialect, pool: db}
	catalog := &Catalog{h}
	return &Store{
		DB:        db,
		Catalog:   catalog,
		Accounts:  &Accounts{handle: h, hashSlots: make(chan struct{}, runtime.GOMAXPROCS(0))},
		Addresses: &Addresses{h},
		Areas:     &Areas{h},
		Admin:     &Admin{handle: h, catalog: catalog},
		Ledger:    &Ledger{h},
		Sales:     &Sales{h},
	}
}

// handle is what every domain store holds: the pool, its dialect, and the
// DB whose Transact its writers go through.
type handle struct {
	db      *gorm.DB
	dialect migrations.Dialect
	pool    *DB
}
