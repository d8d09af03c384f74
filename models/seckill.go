package models

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/meiduo/shop/migrations"
)

// The flash sale (秒杀) as the database sees it. The buying itself happens
// in Redis (internal/seckill); the database holds the sale, the stock that
// left the SKU for it, and the orders, written after the fact by
// PersistSeckillOrders.
//
// A flash-sale order is one unit at the sale price, paid online (it starts
// at StatusUnpaid), plus Freight as every order of the normal commit: its
// total_amount = price + Freight, so CheckInvariants holds for it too.

// Sales is the flash sales' side in the database.
type Sales struct{ handle }

// Sale statuses.
const (
	SaleOpen   = 1
	SaleClosed = 2
)

// Sale is a flash sale of one SKU (tb_seckill_sale).
type Sale struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	SKUID      int64  `gorm:"column:sku_id"`
	LiveSKUID  *int64 `gorm:"column:live_sku_id"` // SKUID while open, nil once closed
	Price      decimal.Decimal
	Stock      int // units moved out of the SKU's stock at open
	PerUser    int // units one user may buy
	StartTime  time.Time
	EndTime    time.Time
	Status     int // SaleOpen or SaleClosed
	Sold       int // set at close: the orders the sale made
	StaffID    *int64
}

func (Sale) TableName() string { return "tb_seckill_sale" }

// Live reports whether buyers may buy at now.
func (s *Sale) Live(now time.Time) bool {
	return s.Status == SaleOpen && !now.Before(s.StartTime) && now.Before(s.EndTime)
}

// SaleInput opens a sale.
type SaleInput struct {
	SKUID   int64
	Stock   int
	Price   decimal.Decimal
	PerUser int // 0 means 1: 一人一单
	Start   time.Time
	End     time.Time
	StaffID int64 // who opened it; 0 for the command line
}

// SeckillOrder is one buy that Redis accepted, to be persisted.
type SeckillOrder struct {
	OrderID   string
	SaleID    int64
	UserID    int64
	AddressID int64
	Decided   time.Time // when Redis accepted it
}

// SaleOrder is an order a sale made, as reconciliation compares it.
type SaleOrder struct {
	OrderID     string `gorm:"primaryKey"`
	SaleID      int64
	UserID      int64
	DecidedTime time.Time
	CreateTime  time.Time // when it was committed
}

func (SaleOrder) TableName() string { return "tb_seckill_order" }

// OpenSale opens a flash sale, in one transaction: the sale stock leaves
// the SKU's stock (as a delta, only while enough is left), the sale row is
// written, and a ReasonSeckillOpen ledger entry records the move. A SKU has
// at most one open sale.
//
// Returns ErrInvalid for a bad stock, price, limit or time window;
// ErrNotLaunched for an unknown or withdrawn SKU; a *StockError
// (ErrOutOfStock) when the SKU has less stock than the sale wants;
// ErrDuplicate when the SKU already has an open sale.
func (s *Sales) OpenSale(ctx context.Context, in SaleInput) (*Sale, error) {
	if in.PerUser == 0 {
		in.PerUser = 1
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	switch {
	case in.Stock < 1 || in.Stock > 1_000_000:
		return nil, fmt.Errorf("open sale: %w: stock %d (want 1 to 1000000)", ErrInvalid, in.Stock)
	case in.PerUser < 1 || in.PerUser > 100:
		return nil, fmt.Errorf("open sale: %w: per-user limit %d (want 1 to 100)", ErrInvalid, in.PerUser)
	case in.Price.IsNegative() || in.Price.GreaterThan(MaxAmount.Sub(Freight)) || !in.Price.Equal(in.Price.Round(2)):
		return nil, fmt.Errorf("open sale: %w: price %s", ErrInvalid, in.Price)
	case !in.End.After(in.Start) || !in.End.After(now):
		return nil, fmt.Errorf("open sale: %w: the sale must end after it starts, and in the future", ErrInvalid)
	}
	sale := &Sale{
		CreateTime: now, UpdateTime: now, SKUID: in.SKUID, LiveSKUID: &in.SKUID, Price: in.Price,
		Stock: in.Stock, PerUser: in.PerUser, Status: SaleOpen,
		StartTime: in.Start.UTC().Truncate(time.Microsecond), EndTime: in.End.UTC().Truncate(time.Microsecond),
	}
	if in.StaffID > 0 {
		sale.StaffID = &in.StaffID
	}
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		res := tx.Exec("UPDATE tb_sku SET stock = stock - ?, update_time = ? WHERE id = ? AND is_launched = ? AND stock >= ?",
			in.Stock, now, in.SKUID, true, in.Stock)
		if res.Error != nil {
			return fmt.Errorf("take stock of sku %d: %w", in.SKUID, res.Error)
		}
		var k SKU
		err := tx.Select("id", "stock", "is_launched").Take(&k, in.SKUID).Error
		if errors.Is(err, gorm.ErrRecordNotFound) || (err == nil && !k.IsLaunched) {
			return fmt.Errorf("sku %d: %w", in.SKUID, ErrNotLaunched)
		}
		if err != nil {
			return fmt.Errorf("read sku %d: %w", in.SKUID, err)
		}
		if res.RowsAffected == 0 {
			return &StockError{SKUID: in.SKUID, Name: fmt.Sprint("sku ", in.SKUID), Wanted: in.Stock, Left: k.Stock}
		}
		if err := tx.Create(sale).Error; err != nil {
			if errors.Is(translate(err), ErrDuplicate) {
				return fmt.Errorf("sku %d already has an open sale: %w", in.SKUID, ErrDuplicate)
			}
			return fmt.Errorf("insert sale: %w", err)
		}
		return RecordStock(tx, LedgerEntry{
			SKUID: in.SKUID, Delta: -in.Stock, StockAfter: k.Stock, Reason: ReasonSeckillOpen,
			UserID: sale.StaffID, Note: fmt.Sprintf("flash sale %d", sale.ID),
		})
	})
	if err != nil {
		return nil, fmt.Errorf("open sale of sku %d: %w", in.SKUID, err)
	}
	return sale, nil
}

// CloseSale closes an open sale, exactly once however many closers race:
// the status changes only from open, and only the closer that changed it
// counts the sale's orders into Sold and gives the unsold units back to
// the SKU's stock (a delta, with a ReasonSeckillClose ledger entry), in
// the same transaction. It reports whether this call closed the sale; a
// sale already closed is returned as it is. Call it only when no order of
// the sale waits to be persisted: one persisted later is refused.
//
// Returns ErrNotFound for an unknown sale.
func (s *Sales) CloseSale(ctx context.Context, saleID int64) (*Sale, bool, error) {
	now := time.Now().UTC().Truncate(time.Microsecond)
	var sale Sale
	closed := false
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		res := tx.Exec("UPDATE tb_seckill_sale SET status = ?, live_sku_id = NULL, update_time = ? WHERE id = ? AND status = ?",
			SaleClosed, now, saleID, SaleOpen)
		if res.Error != nil {
			return fmt.Errorf("close: %w", res.Error)
		}
		if err := tx.Take(&sale, saleID).Error; err != nil {
			return translate(err)
		}
		if res.RowsAffected == 0 {
			return nil
		}
		var sold int64
		if err := tx.Model(&SaleOrder{}).Where("sale_id = ?", saleID).Count(&sold).Error; err != nil {
			return fmt.Errorf("count orders: %w", err)
		}
		if int(sold) > sale.Stock {
			return fmt.Errorf("%d orders for a stock of %d: oversold", sold, sale.Stock)
		}
		if err := tx.Exec("UPDATE tb_seckill_sale SET sold = ? WHERE id = ?", sold, saleID).Error; err != nil {
			return fmt.Errorf("record sold: %w", err)
		}
		sale.Sold, closed = int(sold), true
		unsold := sale.Stock - sale.Sold
		if unsold == 0 {
			return nil
		}
		if err := tx.Exec("UPDATE tb_sku SET stock = stock + ?, update_time = ? WHERE id = ?", unsold, now, sale.SKUID).Error; err != nil {
			return fmt.Errorf("give %d units back to sku %d: %w", unsold, sale.SKUID, err)
		}
		var after int
		if err := tx.Model(&SKU{}).Where("id = ?", sale.SKUID).Pluck("stock", &after).Error; err != nil {
			return fmt.Errorf("read sku %d: %w", sale.SKUID, err)
		}
		return RecordStock(tx, LedgerEntry{
			SKUID: sale.SKUID, Delta: unsold, StockAfter: after, Reason: ReasonSeckillClose,
			Note: fmt.Sprintf("flash sale %d: %d of %d unsold", saleID, unsold, sale.Stock),
		})
	})
	if err != nil {
		return nil, false, fmt.Errorf("close sale %d: %w", saleID, err)
	}
	return &sale, closed, nil
}

// PersistSeckillOrders writes orders that Redis accepted, in one
// transaction: for each order not yet written, tb_order_info (one unit at
// the sale price plus Freight, online payment, StatusUnpaid),
// tb_order_goods and tb_seckill_order; and the SKUs' and SPUs' sales. The
// stock is not touched: it left the SKU when the sale opened.
//
// It is idempotent by order id: an order already written is skipped, and
// counted in the skipped result; a concurrent writer of the same order
// makes it run again.
//
// Returns ErrInvalid for a malformed order (or an id another sale used);
// ErrNotFound when an order not yet written is of a sale that is not open
// (closed sales take no more orders), or its user or address does not
// exist. These are permanent: the caller should not retry that batch as it
// is.
func (s *Sales) PersistSeckillOrders(ctx context.Context, batch []SeckillOrder) (created, skipped int, err error) {
	sales := map[int64]int{} // units per sale
	for _, o := range batch {
		if o.OrderID == "" || len(o.OrderID) > MaxOrderIDLen || o.SaleID < 1 || o.UserID < 1 || o.AddressID < 1 {
			return 0, 0, fmt.Errorf("persist flash-sale order %q: %w", o.OrderID, ErrInvalid)
		}
		sales[o.SaleID]++
	}
	if len(batch) == 0 {
		return 0, 0, nil
	}
	// A duplicate key means another consumer wrote one of these orders
	// meanwhile: the next run skips it.
	for {
		err = s.pool.Transact(ctx, func(tx *Tx) error {
			created, skipped, err = persistOnce(tx, batch, sales)
			return err
		})
		if err == nil || ctx.Err() != nil || !errors.Is(translate(err), ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return 0, 0, fmt.Errorf("persist %d flash-sale orders: %w", len(batch), err)
	}
	return created, skipped, nil
}

// saleRow is what persisting needs of a sale.
type saleRow struct {
	ID     int64
	SKUID  int64 `gorm:"column:sku_id"`
	SPUID  int64 `gorm:"column:spu_id"`
	Price  decimal.Decimal
	Status int
}

func persistOnce(tx *Tx, batch []SeckillOrder, units map[int64]int) (int, int, error) {
	now := tx.Now
	ids := slices.Sorted(maps.Keys(units))
	// Locking the sales' rows makes a concurrent CloseSale wait, then
	// count these orders; a closed sale takes no more. (SQLite has no row
	// locks: its one writer gives the same exclusion.) The SKU row is
	// locked too; every writer takes sale, then SKU, then SPU. Orders
	// already written are looked for after the lock, so that one written
	// by the closer just before it closed the sale is skipped, not
	// refused.
	lock := clause.Locking{Strength: clause.LockingStrengthUpdate}
	if tx.Dialect == migrations.Postgres {
		lock.Strength = "NO KEY UPDATE"
	}
	var rows []saleRow
	err := tx.Table("tb_seckill_sale s").Select("s.id, s.sku_id, k.spu_id, s.price, s.status").
		Joins("JOIN tb_sku k ON k.id = s.sku_id").Where("s.id IN ?", ids).
		Order("s.id").Clauses(lock).Find(&rows).Error
	if err != nil {
		return 0, 0, fmt.Errorf("lock sales %v: %w", ids, err)
	}
	byID := make(map[int64]saleRow, len(rows))
	for _, r := range rows {
		byID[r.ID] = r
	}
	orderIDs := make([]string, len(batch))
	for i, o := range batch {
		orderIDs[i] = o.OrderID
	}
	var done []SaleOrder
	if err := tx.Select("order_id", "sale_id").Where("order_id IN ?", orderIDs).Find(&done).Error; err != nil {
		return 0, 0, fmt.Errorf("find orders already written: %w", err)
	}
	saleOf := make(map[string]int64, len(batch))
	for _, o := range batch {
		saleOf[o.OrderID] = o.SaleID
	}
	skip := make(map[string]bool, len(done))
	for _, d := range done {
		if saleOf[d.OrderID] != d.SaleID {
			return 0, 0, fmt.Errorf("%w: order id %s is another sale's", ErrInvalid, d.OrderID)
		}
		skip[d.OrderID] = true
	}
	var heads []saleOrderRow
	var lines []OrderLine
	var links []SaleOrder
	skuUnits, spuUnits := map[int64]int{}, map[int64]int{}
	for _, o := range batch {
		if skip[o.OrderID] {
			continue
		}
		skip[o.OrderID] = true // a repeat within the batch
		sr, ok := byID[o.SaleID]
		if !ok || sr.Status != SaleOpen {
			return 0, 0, fmt.Errorf("order %s: sale %d is not open: %w", o.OrderID, o.SaleID, ErrNotFound)
		}
		heads = append(heads, saleOrderRow{
			OrderID: o.OrderID, CreateTime: now, UpdateTime: now, UserID: o.UserID, AddressID: o.AddressID,
			TotalCount: 1, TotalAmount: sr.Price.Add(Freight), Freight: Freight, PayMethod: PayOnline, Status: StatusUnpaid,
		})
		lines = append(lines, OrderLine{CreateTime: now, UpdateTime: now, OrderID: o.OrderID, SKUID: sr.SKUID, Count: 1, Price: sr.Price, Score: 5})
		links = append(links, SaleOrder{OrderID: o.OrderID, SaleID: o.SaleID, UserID: o.UserID, DecidedTime: o.Decided.UTC().Truncate(time.Microsecond), CreateTime: now})
		skuUnits[sr.SKUID]++
		spuUnits[sr.SPUID]++
	}
	if len(heads) == 0 {
		return 0, len(batch), nil
	}
	// The sales counters first: on MySQL an order line's foreign key check
	// share-locks its SKU row, and upgrading that lock later would deadlock
	// with the normal order commit.
	for _, m := range []struct {
		table string
		units map[int64]int
	}{{"tb_sku", skuUnits}, {"tb_spu", spuUnits}} {
		for _, id := range slices.Sorted(maps.Keys(m.units)) {
			if err := tx.Exec("UPDATE "+m.table+" SET sales = sales + ? WHERE id = ?", m.units[id], id).Error; err != nil {
				return 0, 0, fmt.Errorf("add %d sales to %s %d: %w", m.units[id], m.table, id, err)
			}
		}
	}
	if err := tx.Create(&heads).Error; err != nil {
		return 0, 0, persistError(err)
	}
	if err := tx.Create(&lines).Error; err != nil {
		return 0, 0, persistError(err)
	}
	if err := tx.Create(&links).Error; err != nil {
		return 0, 0, persistError(err)
	}
	return len(heads), len(batch) - len(heads), nil
}

// persistError keeps a duplicate key (a concurrent writer: retry) apart
// from a missing user or address (permanent: ErrNotFound).
func persistError(err error) error {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return fmt.Errorf("insert orders: %w: %v", ErrNotFound, err)
	}
	return fmt.Errorf("insert orders: %w", err)
}

// saleOrderRow is tb_order_info as a flash-sale order writes it.
type saleOrderRow struct {
	OrderID     string `gorm:"primaryKey"`
	CreateTime  time.Time
	UpdateTime  time.Time
	UserID      int64
	AddressID   int64
	TotalCount  int
	TotalAmount decimal.Decimal
	Freight     decimal.Decimal
	PayMethod   int
	Status      int
}

func (saleOrderRow) TableName() string { return "tb_order_info" }

// Sale returns a sale. Returns ErrNotFound.
func (s *Sales) Sale(ctx context.Context, id int64) (*Sale, error) {
	var sale Sale
	if err := s.db.WithContext(ctx).Take(&sale, id).Error; err != nil {
		return nil, fmt.Errorf("sale %d: %w", id, translate(err))
	}
	return &sale, nil
}

// LiveSale returns the SKU's open sale, or its latest closed one when none
// is open. Returns ErrNotFound if the SKU never had a sale.
func (s *Sales) LiveSale(ctx context.Context, skuID int64) (*Sale, error) {
	var sale Sale
	err := s.db.WithContext(ctx).Where("sku_id = ?", skuID).Order("status, id DESC").Take(&sale).Error
	if err != nil {
		return nil, fmt.Errorf("sale of sku %d: %w", skuID, translate(err))
	}
	return &sale, nil
}

// Sales returns the latest sales, newest first, at most limit.
func (s *Sales) Sales(ctx context.Context, limit int) ([]Sale, error) {
	var out []Sale
	if err := s.db.WithContext(ctx).Order("id DESC").Limit(limit).Find(&out).Error; err != nil {
		return nil, fmt.Errorf("sales: %w", err)
	}
	return out, nil
}

// OpenSales returns every open sale, oldest first.
func (s *Sales) OpenSales(ctx context.Context) ([]Sale, error) {
	var out []Sale
	if err := s.db.WithContext(ctx).Where("status = ?", SaleOpen).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("open sales: %w", err)
	}
	return out, nil
}

// SaleOrders returns the orders a sale made, oldest decision first.
func (s *Sales) SaleOrders(ctx context.Context, saleID int64) ([]SaleOrder, error) {
	var out []SaleOrder
	err := s.db.WithContext(ctx).Where("sale_id = ?", saleID).Order("decided_time, order_id").Find(&out).Error
	if err != nil {
		return nil, fmt.Errorf("orders of sale %d: %w", saleID, err)
	}
	return out, nil
}

// SeckillOrderExists reports whether the user's flash-sale order is
// written.
func (s *Sales) SeckillOrderExists(ctx context.Context, uid int64, orderID string) (bool, error) {
	var n int64
	err := s.db.WithContext(ctx).Model(&SaleOrder{}).Where("order_id = ? AND user_id = ?", orderID, uid).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("flash-sale order %q: %w", orderID, err)
	}
	return n > 0, nil
}
