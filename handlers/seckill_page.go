package handlers

import (
	"context"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/templates"
)

// seckillMine fills in the shopper's own result in the sale, so that a
// reload after a buy shows it, and keeps the button disabled once the
// shopper has bought all the sale allows one buyer. It reads what Redis
// accepted (queued or persisted) and what the database wrote or refused.
func (h *Handlers) seckillMine(ctx context.Context, v *templates.SeckillView, sale *models.Sale, uid int64) error {
	rec, err := h.Store.Sales.BuyerRecord(ctx, sale.ID, uid)
	if err != nil {
		return err
	}
	units := 0
	if sale.Status == models.SaleOpen {
		n, held, err := h.Seckill.Bought(ctx, sale.SKUID, sale.ID, uid)
		if err != nil {
			return err
		}
		if held {
			units = n
		}
	}
	queued := units - rec.Created - rec.Refused
	switch {
	case queued > 0:
		v.Mine = templates.SaleMineQueued
	case rec.Created > 0:
		v.Mine = templates.SaleMineCreated
	case rec.Refused > 0:
		v.Mine = templates.SaleMineFailed
		v.MineReason = refusalText(v.Lang, rec.LastReason)
	}
	if len(rec.Unpaid) > 0 {
		v.PayOrderID = rec.Unpaid[0]
	}
	v.LimitReached = max(units, rec.Created) >= sale.PerUser
	return nil
}

// refusalText says in the shopper's words why the database refused a buy.
func refusalText(l templates.Lang, reason string) string {
	switch reason {
	case models.RefusedSoldOut:
		return templates.T(l, "seckill.sold_out")
	case models.RefusedLimit:
		return templates.T(l, "seckill.limit")
	case models.RefusedLost:
		return templates.T(l, "seckill.mine.lost")
	}
	return templates.T(l, "seckill.status.failed")
}
