package order

import (
	"context"
	"errors"
	"fmt"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/meiduo/shop/models"
)

// Bill prices items. SKUs that do not exist are left out; withdrawn ones
// stay in, with SKU.IsLaunched false. Its SKUs carry what a bill needs:
// id, name, SPU, price, stock, sales, whether launched, and the image.
func (o *Orders) Bill(ctx context.Context, items []Item) (*models.Bill, error) {
	b, _, err := o.bill(ctx, items, 0, 0)
	return b, err
}

// bill is Bill that also tells whether addressID is a live address of uid,
// from the same query: the checkout reads both in one round trip.
func (o *Orders) bill(ctx context.Context, items []Item, uid, addressID int64) (*models.Bill, bool, error) {
	ids := make([]int64, len(items))
	counts := make(map[int64]int, len(items))
	for i, it := range items {
		ids[i] = it.SKUID
		counts[it.SKUID] += it.Count
	}
	b := &models.Bill{Goods: decimal.Zero, Freight: models.Freight}
	var rows []struct {
		models.SKU `gorm:"embedded"`
		AddressOK  *int64
	}
	if len(ids) > 0 {
		cols := "tb_sku.id, tb_sku.name, tb_sku.spu_id, tb_sku.price, tb_sku.stock, tb_sku.sales, tb_sku.is_launched, tb_sku.default_image"
		q := o.db.Gorm().WithContext(ctx).Table("tb_sku").Select(cols + ", NULL AS address_ok")
		if addressID > 0 {
			q = q.Select(cols+", tb_address.id AS address_ok").
				Joins("LEFT JOIN tb_address ON tb_address.id = ? AND tb_address.user_id = ? AND tb_address.is_deleted = ?", addressID, uid, false)
		}
		if err := q.Where("tb_sku.id IN ?", ids).Order("tb_sku.id").Find(&rows).Error; err != nil {
			return nil, false, fmt.Errorf("skus %v: %w", ids, err)
		}
	}
	addressOK := len(rows) > 0 && rows[0].AddressOK != nil
	if len(rows) == 0 && addressID > 0 {
		// No SKU row to carry the answer: ask on its own.
		_, err := o.store.Addresses.AddressOf(ctx, uid, addressID)
		if err != nil && !errors.Is(err, models.ErrNotFound) {
			return nil, false, err
		}
		addressOK = err == nil
	}
	for _, r := range rows {
		n := counts[r.ID]
		amount := r.Price.Mul(decimal.NewFromInt(int64(n)))
		b.Lines = append(b.Lines, models.BillLine{SKU: r.SKU, Count: n, Amount: amount})
		b.TotalCount += n
		b.Goods = b.Goods.Add(amount)
	}
	b.Payable = b.Goods.Add(b.Freight)
	return b, addressOK, nil
}

// orderByToken returns the user's order made with a commit token, with its
// lines. Returns ErrNotFound.
func orderByToken(db *gorm.DB, uid int64, token string) (*models.Order, error) {
	var o models.Order
	err := db.Preload("Lines", orderLines).Where("user_id = ? AND commit_token = ?", uid, token).Take(&o).Error
	if err != nil {
		return nil, fmt.Errorf("order of user %d with token: %w", uid, models.Translate(err))
	}
	return &o, nil
}

func orderLines(db *gorm.DB) *gorm.DB { return db.Order("id") }

// OrderOf returns one of the user's orders with its lines. Returns
// ErrNotFound if there is no such order or it is someone else's.
func (o *Orders) OrderOf(ctx context.Context, uid int64, orderID string) (*models.Order, error) {
	var out models.Order
	err := o.db.Gorm().WithContext(ctx).Preload("Lines", orderLines).
		Where("order_id = ? AND user_id = ?", orderID, uid).Take(&out).Error
	if err != nil {
		return nil, fmt.Errorf("order %q of user %d: %w", orderID, uid, models.Translate(err))
	}
	return &out, nil
}

// OrderPage is one page of a user's orders, newest first.
type OrderPage struct {
	Orders []models.Order       // with their lines
	SKUs   map[int64]models.SKU // the SKUs of those lines, for names and images
	Page   int                  // 1-based
	Pages  int                  // at least 1
	Total  int64                // orders in all pages
}

// UserOrders returns page (1-based) of the user's orders, size a page,
// newest first. Page 1 always exists, empty when the user has no orders;
// another page past the last returns ErrNotFound.
func (o *Orders) UserOrders(ctx context.Context, uid int64, page, size int) (*OrderPage, error) {
	return o.UserOrdersIn(ctx, uid, nil, page, size)
}

// UserOrdersIn is UserOrders of the orders in one of statuses only (none:
// every order), paged among themselves.
func (o *Orders) UserOrdersIn(ctx context.Context, uid int64, statuses []int, page, size int) (*OrderPage, error) {
	if size < 1 {
		size = 5
	}
	db := o.db.Gorm().WithContext(ctx)
	mine := func() *gorm.DB {
		q := db.Model(&models.Order{}).Where("user_id = ?", uid)
		if len(statuses) > 0 {
			q = q.Where("status IN ?", statuses)
		}
		return q
	}
	out := &OrderPage{Page: page, SKUs: map[int64]models.SKU{}}
	if err := mine().Count(&out.Total).Error; err != nil {
		return nil, fmt.Errorf("count orders of user %d: %w", uid, err)
	}
	out.Pages = max(1, int((out.Total+int64(size)-1)/int64(size)))
	if page < 1 || page > out.Pages {
		return nil, fmt.Errorf("orders page %d of %d for user %d: %w", page, out.Pages, uid, models.ErrNotFound)
	}
	err := mine().Preload("Lines", orderLines).
		Order("create_time DESC, order_id DESC").Offset((page - 1) * size).Limit(size).Find(&out.Orders).Error
	if err != nil {
		return nil, fmt.Errorf("orders of user %d: %w", uid, err)
	}
	var ids []int64
	for _, ord := range out.Orders {
		for _, l := range ord.Lines {
			ids = append(ids, l.SKUID)
		}
	}
	skus, err := o.store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, k := range skus {
		out.SKUs[k.ID] = k
	}
	return out, nil
}
