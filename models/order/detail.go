package order

import (
	"context"
	"fmt"

	"github.com/meiduo/shop/models"
)

// Detail is one of a buyer's orders as its detail page shows it.
type Detail struct {
	Order    models.Order         // with its lines
	Address  models.Address       // deleted addresses too: the order keeps pointing at them
	SKUs     map[int64]models.SKU // the lines' SKUs that still exist
	Payments []models.Payment
	Events   []models.OrderEvent // oldest first
}

// DetailOf returns the user's order with its lines, address, SKUs,
// payments and status changes. Returns models.ErrNotFound if there is no
// such order or it is someone else's.
func (o *Orders) DetailOf(ctx context.Context, uid int64, orderID string) (*Detail, error) {
	ord, err := o.OrderOf(ctx, uid, orderID)
	if err != nil {
		return nil, err
	}
	d := &Detail{Order: *ord, SKUs: map[int64]models.SKU{}}
	if err := o.db.Gorm().WithContext(ctx).Where("id = ?", ord.AddressID).Take(&d.Address).Error; err != nil {
		return nil, fmt.Errorf("address of order %q: %w", orderID, models.Translate(err))
	}
	ids := make([]int64, len(ord.Lines))
	for i, l := range ord.Lines {
		ids[i] = l.SKUID
	}
	skus, err := o.store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, k := range skus {
		d.SKUs[k.ID] = k
	}
	if d.Payments, err = o.Payments(ctx, orderID); err != nil {
		return nil, err
	}
	if d.Events, err = o.Events(ctx, orderID); err != nil {
		return nil, err
	}
	return d, nil
}
