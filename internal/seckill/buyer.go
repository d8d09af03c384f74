package seckill

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// Bought returns the units of the sale saleID that Redis accepted for the
// user, persisted or not yet; held is false when Redis does not hold that
// sale (it lost it, or it was replaced). Only the sale's page reads it.
func (e *Engine) Bought(ctx context.Context, sku, saleID, uid int64) (units int, held bool, err error) {
	k := keysOf(sku)
	p := e.rdb.Pipeline()
	sale := p.HGet(ctx, k.sale, "sale")
	got := p.HGet(ctx, k.buyers, strconv.FormatInt(uid, 10))
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return 0, false, fmt.Errorf("buyer %d of the flash sale of sku %d: %w", uid, sku, err)
	}
	if id, err := sale.Int64(); err != nil || id != saleID {
		return 0, false, nil
	}
	n, err := got.Int()
	if errors.Is(err, redis.Nil) {
		return 0, true, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("buyer %d of the flash sale of sku %d: %w", uid, sku, err)
	}
	return n, true, nil
}
