package carts

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"
)

// The browse history, as the Django shop keeps it: the Redis list
// history_<uid> of the SKU ids a logged-in shopper looked at, newest
// first, each once, at most HistoryLen of them.

// HistoryLen is how many SKUs the browse history keeps.
const HistoryLen = 5

func historyKey(uid int64) string { return "history_" + strconv.FormatInt(uid, 10) }

// AddHistory puts a SKU at the head of uid's browse history, taking it out
// of where it was and dropping the oldest beyond HistoryLen, in one
// MULTI/EXEC: a reader never sees it twice or the list too long.
func (s *Store) AddHistory(ctx context.Context, uid, skuID int64) error {
	id := strconv.FormatInt(skuID, 10)
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.LRem(ctx, historyKey(uid), 0, id)
		p.LPush(ctx, historyKey(uid), id)
		p.LTrim(ctx, historyKey(uid), 0, HistoryLen-1)
		return nil
	})
	if err != nil {
		return fmt.Errorf("add sku %d to the history of user %d: %w", skuID, uid, err)
	}
	return nil
}

// History returns uid's browse history, newest first. Entries that are
// not SKU ids (written by hand into Redis) are skipped.
func (s *Store) History(ctx context.Context, uid int64) ([]int64, error) {
	vals, err := s.rdb.LRange(ctx, historyKey(uid), 0, HistoryLen-1).Result()
	if err != nil {
		return nil, fmt.Errorf("history of user %d: %w", uid, err)
	}
	out := make([]int64, 0, len(vals))
	for _, v := range vals {
		if id, err := strconv.ParseInt(v, 10, 64); err == nil && id > 0 {
			out = append(out, id)
		}
	}
	return out, nil
}
