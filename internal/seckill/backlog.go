package seckill

import (
	"context"
	"fmt"
	"strconv"
)

// Backlog is one live sale's stream as a monitor sees it.
type Backlog struct {
	SKUID   int64
	Length  int64 // entries in the stream
	Pending int64 // read by a consumer and not yet acknowledged
}

// Backlogs reports the stream of every live sale, for metrics.
func (e *Engine) Backlogs(ctx context.Context) ([]Backlog, error) {
	skus, err := e.rdb.SMembers(ctx, liveKey).Result()
	if err != nil {
		return nil, fmt.Errorf("list live sales: %w", err)
	}
	out := make([]Backlog, 0, len(skus))
	for _, s := range skus {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			continue
		}
		k := keysOf(id)
		p := e.rdb.Pipeline()
		n := p.XLen(ctx, k.stream)
		pend := p.XPending(ctx, k.stream, group)
		_, _ = p.Exec(ctx) // XPENDING fails before the group exists: no pending entries
		if err := n.Err(); err != nil {
			return nil, fmt.Errorf("read the stream of sku %d: %w", id, err)
		}
		b := Backlog{SKUID: id, Length: n.Val()}
		if pend.Err() == nil {
			b.Pending = pend.Val().Count
		}
		out = append(out, b)
	}
	return out, nil
}
