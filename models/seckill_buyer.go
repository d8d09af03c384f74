package models

import (
	"context"
	"fmt"
)

// BuyerRecord is what the database holds of one buyer in one flash sale,
// for the sale's page: the orders written and the buys refused for good.
type BuyerRecord struct {
	Created    int    // orders written
	Refused    int    // buys refused for good
	LastReason string // the latest refusal's reason, "" without one
	// Unpaid are the buyer's orders of the sale still awaiting payment,
	// newest first, for the page's pay button.
	Unpaid []string
}

// BuyerRecord returns what the database holds of the user in the sale.
func (s *Sales) BuyerRecord(ctx context.Context, saleID, uid int64) (BuyerRecord, error) {
	var r BuyerRecord
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&SaleOrder{}).Where("sale_id = ? AND user_id = ?", saleID, uid).Count(&n).Error; err != nil {
		return r, fmt.Errorf("orders of user %d in sale %d: %w", uid, saleID, err)
	}
	r.Created = int(n)
	if n > 0 {
		err := db.Table("tb_seckill_order s").Joins("JOIN tb_order_info o ON o.order_id = s.order_id").
			Where("s.sale_id = ? AND s.user_id = ? AND o.status = ?", saleID, uid, StatusUnpaid).
			Order("o.create_time DESC, s.order_id DESC").Pluck("s.order_id", &r.Unpaid).Error
		if err != nil {
			return r, fmt.Errorf("unpaid orders of user %d in sale %d: %w", uid, saleID, err)
		}
	}
	var refusals []Refusal
	if err := db.Where("sale_id = ? AND user_id = ?", saleID, uid).Order("decided_time DESC, order_id").Find(&refusals).Error; err != nil {
		return r, fmt.Errorf("refusals of user %d in sale %d: %w", uid, saleID, err)
	}
	r.Refused = len(refusals)
	if len(refusals) > 0 {
		r.LastReason = refusals[0].Reason
	}
	return r, nil
}
