package models_test

import "github.com/meiduo/shop/internal/testenv"

// The databases of the admin tests, with the plain-SQL helpers that
// models/order's tests share (testenv.ShopDB).
type shopDB = testenv.ShopDB

var orderDBs = testenv.ShopDBs
