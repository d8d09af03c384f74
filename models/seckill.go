package models

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
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
// The database is the last line of defence, whatever Redis holds or
// loses: the sale's sold never passes its stock and a buyer's units never
// pass the sale's per-user limit (conditional writes and CHECK
// constraints), so an order Redis accepted that would pass either is
// refused for good and recorded in tb_seckill_refusal. Redis is rebuilt
// from these counts when it loses a sale (LoadSale).
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
	Sold       int // the orders persisted so far; never above Stock
	StaffID    *int64
	// Loads counts the times the sale was loaded into Redis: each load is
	// an epoch, and every buy carries the epoch it was decided in.
	Loads int
	// RebuiltAt is when the sale was last loaded into Redis again after
	// Redis had lost it; nil if it never was.
	RebuiltAt *time.Time
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
	// Epoch is the load of the sale in Redis (Sale.Loads) the buy was
	// decided in; 0 for a buy decided before epochs were recorded.
	Epoch int
}

// Reasons an order Redis accepted is refused for good.
const (
	RefusedSoldOut = "sold out"
	RefusedLimit   = "over the per-user limit"
	RefusedLost    = "lost when Redis restarted"
)

// Refusal is an order Redis accepted and the database refused for good
// (tb_seckill_refusal).
type Refusal struct {
	OrderID     string `gorm:"primaryKey"`
	SaleID      int64
	UserID      int64
	Reason      string
	DecidedTime time.Time
	CreateTime  time.Time
}

func (Refusal) TableName() string { return "tb_seckill_refusal" }

// PersistResult is what PersistSeckillOrders did with a batch.
type PersistResult struct {
	Created int // orders written now
	Skipped int // orders written before
	// Refused lists every order of the batch the database refuses, now or
	// before: none of them is written, ever.
	Refused []Refusal
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
// checks that the sale's orders are as many as its Sold (kept by
// PersistSeckillOrders) and gives the unsold units back to the SKU's stock
// (a delta, with a ReasonSeckillClose ledger entry), in the same
// transaction. It reports whether this call closed the sale; a
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
		if int(sold) != sale.Sold {
			return fmt.Errorf("%d orders for %d sold (stock %d): the sale's counts disagree", sold, sale.Sold, sale.Stock)
		}
		closed = true
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
// transaction, and counts them against their sale. Under the sales' row
// locks it decides, in the batch's order, which orders fit: one fits while
// the sale's sold is under its stock and its buyer's units under the
// sale's per-user limit, and was decided in the sale's current load into
// Redis (an order of an earlier load that is not yet written was lost
// with that Redis: its buyer has been told so). Each order that fits is
// written: tb_order_info (one unit at the sale price plus Freight, online
// payment, StatusUnpaid), tb_order_goods and tb_seckill_order; the SKUs'
// and SPUs' sales; the sale's sold (UPDATE ... WHERE sold + n <= stock)
// and the buyer's units (an upsert that keeps units <= per_user). Each
// order that does not fit is refused for good: recorded in
// tb_seckill_refusal, never written. CHECK constraints hold both limits
// whatever a writer does. The stock is not touched: it left the SKU when
// the sale opened.
//
// It is idempotent by order id: an order already written is skipped, and
// counted in Skipped; one already refused is in Refused again; a
// concurrent writer of the same order makes it run again.
//
// Returns ErrInvalid for a malformed order (or an id another sale used);
// ErrNotFound when an order not yet written is of a sale that is not open
// (closed sales take no more orders), or its user or address does not
// exist. These are permanent: the caller should not retry that batch as it
// is.
func (s *Sales) PersistSeckillOrders(ctx context.Context, batch []SeckillOrder) (PersistResult, error) {
	sales := map[int64]int{} // units per sale
	for _, o := range batch {
		if o.OrderID == "" || len(o.OrderID) > MaxOrderIDLen || o.SaleID < 1 || o.UserID < 1 || o.AddressID < 1 {
			return PersistResult{}, fmt.Errorf("persist flash-sale order %q: %w", o.OrderID, ErrInvalid)
		}
		sales[o.SaleID]++
	}
	if len(batch) == 0 {
		return PersistResult{}, nil
	}
	// A duplicate key means another consumer wrote one of these orders
	// meanwhile: the next run skips it.
	var res PersistResult
	var err error
	for {
		err = s.pool.Transact(ctx, func(tx *Tx) error {
			res, err = persistOnce(tx, batch, sales)
			return err
		})
		if err == nil || ctx.Err() != nil || !errors.Is(translate(err), ErrDuplicate) {
			break
		}
	}
	if err != nil {
		return PersistResult{}, fmt.Errorf("persist %d flash-sale orders: %w", len(batch), err)
	}
	return res, nil
}

// saleRow is what persisting needs of a sale.
type saleRow struct {
	ID      int64
	SKUID   int64 `gorm:"column:sku_id"`
	SPUID   int64 `gorm:"column:spu_id"`
	Price   decimal.Decimal
	Status  int
	Stock   int
	Sold    int
	PerUser int
	Loads   int
}

// buyerRow is tb_seckill_buyer.
type buyerRow struct {
	SaleID  int64
	UserID  int64
	Units   int
	PerUser int
}

func (buyerRow) TableName() string { return "tb_seckill_buyer" }

func persistOnce(tx *Tx, batch []SeckillOrder, units map[int64]int) (PersistResult, error) {
	now := tx.Now
	var res PersistResult
	ids := slices.Sorted(maps.Keys(units))
	// Locking the sales' rows makes a concurrent CloseSale wait, then
	// count these orders; a closed sale takes no more. It also makes
	// every writer of a sale's counts decide in turn. (SQLite has no row
	// locks: its one writer gives the same exclusion.) The SKU row is
	// locked too; every writer takes sale, then SKU, then SPU. Orders
	// already written or refused are looked for after the lock, so that
	// one written by the closer just before it closed the sale is
	// skipped, not refused.
	lock := clause.Locking{Strength: clause.LockingStrengthUpdate}
	if tx.Dialect == migrations.Postgres {
		lock.Strength = "NO KEY UPDATE"
	}
	var rows []saleRow
	err := tx.Table("tb_seckill_sale s").
		Select("s.id, s.sku_id, k.spu_id, s.price, s.status, s.stock, s.sold, s.per_user, s.loads").
		Joins("JOIN tb_sku k ON k.id = s.sku_id").Where("s.id IN ?", ids).
		Order("s.id").Clauses(lock).Find(&rows).Error
	if err != nil {
		return res, fmt.Errorf("lock sales %v: %w", ids, err)
	}
	byID := make(map[int64]*saleRow, len(rows))
	for i := range rows {
		byID[rows[i].ID] = &rows[i]
	}
	orderIDs := make([]string, len(batch))
	saleOf := make(map[string]int64, len(batch))
	users := map[int64][]int64{} // sale -> its buyers in the batch
	for i, o := range batch {
		orderIDs[i] = o.OrderID
		saleOf[o.OrderID] = o.SaleID
		users[o.SaleID] = append(users[o.SaleID], o.UserID)
	}
	var done []SaleOrder
	if err := tx.Select("order_id", "sale_id").Where("order_id IN ?", orderIDs).Find(&done).Error; err != nil {
		return res, fmt.Errorf("find orders already written: %w", err)
	}
	var refusedBefore []Refusal
	if err := tx.Where("order_id IN ?", orderIDs).Find(&refusedBefore).Error; err != nil {
		return res, fmt.Errorf("find orders already refused: %w", err)
	}
	skip := make(map[string]bool, len(done)+len(refusedBefore))
	for _, d := range done {
		if saleOf[d.OrderID] != d.SaleID {
			return res, fmt.Errorf("%w: order id %s is another sale's", ErrInvalid, d.OrderID)
		}
		skip[d.OrderID] = true
	}
	for _, r := range refusedBefore {
		if saleOf[r.OrderID] != r.SaleID {
			return res, fmt.Errorf("%w: order id %s is another sale's", ErrInvalid, r.OrderID)
		}
		skip[r.OrderID] = true
		res.Refused = append(res.Refused, r)
	}
	// Each buyer's units so far, per sale.
	bought := map[[2]int64]int{}
	for _, id := range ids {
		var bs []buyerRow
		for chunk := range slices.Chunk(slices.Compact(slices.Sorted(slices.Values(users[id]))), 1000) {
			if err := tx.Where("sale_id = ? AND user_id IN ?", id, chunk).Find(&bs).Error; err != nil {
				return res, fmt.Errorf("read the buyers of sale %d: %w", id, err)
			}
			for _, b := range bs {
				bought[[2]int64{id, b.UserID}] = b.Units
			}
		}
	}
	var heads []OrderRow
	var lines []OrderLine
	var links []SaleOrder
	var refusals []Refusal
	skuUnits, spuUnits, sold := map[int64]int{}, map[int64]int{}, map[int64]int{}
	gained := map[[2]int64]int{}
	for _, o := range batch {
		if skip[o.OrderID] {
			continue
		}
		skip[o.OrderID] = true // a repeat within the batch
		sr, ok := byID[o.SaleID]
		if !ok || sr.Status != SaleOpen {
			return res, fmt.Errorf("order %s: sale %d is not open: %w", o.OrderID, o.SaleID, ErrNotFound)
		}
		buyer := [2]int64{o.SaleID, o.UserID}
		decided := o.Decided.UTC().Truncate(time.Microsecond)
		reason := ""
		switch {
		case o.Epoch > 0 && o.Epoch < sr.Loads:
			reason = RefusedLost
		case bought[buyer]+gained[buyer] >= sr.PerUser: // as Redis decides: the limit first
			reason = RefusedLimit
		case sr.Sold+sold[o.SaleID] >= sr.Stock:
			reason = RefusedSoldOut
		}
		if reason != "" {
			refusals = append(refusals, Refusal{OrderID: o.OrderID, SaleID: o.SaleID, UserID: o.UserID, Reason: reason,
				DecidedTime: decided, CreateTime: now})
			continue
		}
		sold[o.SaleID]++
		gained[buyer]++
		heads = append(heads, OrderRow{
			OrderID: o.OrderID, CreateTime: now, UpdateTime: now, UserID: o.UserID, AddressID: o.AddressID,
			TotalCount: 1, TotalAmount: sr.Price.Add(Freight), Freight: Freight, PayMethod: PayOnline, Status: StatusUnpaid,
		})
		lines = append(lines, OrderLine{CreateTime: now, UpdateTime: now, OrderID: o.OrderID, SKUID: sr.SKUID, Count: 1, Price: sr.Price, Score: 5})
		links = append(links, SaleOrder{OrderID: o.OrderID, SaleID: o.SaleID, UserID: o.UserID, DecidedTime: decided, CreateTime: now})
		skuUnits[sr.SKUID]++
		spuUnits[sr.SPUID]++
	}
	if len(refusals) > 0 {
		if err := tx.Create(&refusals).Error; err != nil {
			return res, persistError(err)
		}
		res.Refused = append(res.Refused, refusals...)
	}
	res.Created = len(heads)
	res.Skipped = len(done)
	if len(heads) == 0 {
		return res, nil
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
				return res, fmt.Errorf("add %d sales to %s %d: %w", m.units[id], m.table, id, err)
			}
		}
	}
	for _, id := range slices.Sorted(maps.Keys(sold)) {
		r := tx.Exec("UPDATE tb_seckill_sale SET sold = sold + ? WHERE id = ? AND sold + ? <= stock", sold[id], id, sold[id])
		if r.Error != nil {
			return res, fmt.Errorf("count %d sold in sale %d: %w", sold[id], id, r.Error)
		}
		if r.RowsAffected != 1 {
			return res, fmt.Errorf("count %d sold in sale %d: it would pass the stock", sold[id], id)
		}
	}
	if err := countBuyers(tx, gained, byID); err != nil {
		return res, err
	}
	if err := tx.Create(&heads).Error; err != nil {
		return res, persistError(err)
	}
	if err := tx.Create(&lines).Error; err != nil {
		return res, persistError(err)
	}
	if err := tx.Create(&links).Error; err != nil {
		return res, persistError(err)
	}
	return res, nil
}

// countBuyers adds each buyer's new units to tb_seckill_buyer, with an
// upsert that never takes units past per_user: on SQLite and PostgreSQL
// the update's WHERE skips such a row (and the row count tells), on
// MySQL/MariaDB, whose upsert has no WHERE, the CHECK refuses it.
func countBuyers(tx *Tx, gained map[[2]int64]int, sales map[int64]*saleRow) error {
	keys := slices.SortedFunc(maps.Keys(gained), func(a, b [2]int64) int {
		if a[0] != b[0] {
			return cmp.Compare(a[0], b[0])
		}
		return cmp.Compare(a[1], b[1])
	})
	for chunk := range slices.Chunk(keys, 1000) {
		var sb strings.Builder
		args := make([]any, 0, 4*len(chunk))
		sb.WriteString("INSERT INTO tb_seckill_buyer (sale_id, user_id, units, per_user) VALUES ")
		for i, k := range chunk {
			if i > 0 {
				sb.WriteString(", ")
			}
			sb.WriteString("(?, ?, ?, ?)")
			args = append(args, k[0], k[1], gained[k], sales[k[0]].PerUser)
		}
		if tx.Dialect == migrations.MySQL {
			sb.WriteString(" ON DUPLICATE KEY UPDATE units = units + VALUES(units)")
		} else {
			sb.WriteString(" ON CONFLICT (sale_id, user_id) DO UPDATE SET units = tb_seckill_buyer.units + excluded.units" +
				" WHERE tb_seckill_buyer.units + excluded.units <= tb_seckill_buyer.per_user")
		}
		r := tx.Exec(sb.String(), args...)
		if r.Error != nil {
			return fmt.Errorf("count %d buyers' units: %w", len(chunk), r.Error)
		}
		if tx.Dialect != migrations.MySQL && r.RowsAffected != int64(len(chunk)) {
			return fmt.Errorf("count %d buyers' units: %d would pass the limit", len(chunk), int64(len(chunk))-r.RowsAffected)
		}
	}
	return nil
}

// persistError keeps a duplicate key (a concurrent writer: retry) apart
// from a missing user or address (permanent: ErrNotFound).
func persistError(err error) error {
	if errors.Is(err, gorm.ErrForeignKeyViolated) {
		return fmt.Errorf("insert orders: %w: %v", ErrNotFound, err)
	}
	return fmt.Errorf("insert orders: %w", err)
}

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

// SeckillOutcome says what the database holds of the user's flash-sale
// order: written (created), refused for good (refused is the reason), or
// neither (both zero).
func (s *Sales) SeckillOutcome(ctx context.Context, uid int64, orderID string) (created bool, refused string, err error) {
	db := s.db.WithContext(ctx)
	var n int64
	if err := db.Model(&SaleOrder{}).Where("order_id = ? AND user_id = ?", orderID, uid).Count(&n).Error; err != nil {
		return false, "", fmt.Errorf("flash-sale order %q: %w", orderID, err)
	}
	if n > 0 {
		return true, "", nil
	}
	var reasons []string
	if err := db.Model(&Refusal{}).Where("order_id = ? AND user_id = ?", orderID, uid).Limit(1).Pluck("reason", &reasons).Error; err != nil {
		return false, "", fmt.Errorf("flash-sale refusal %q: %w", orderID, err)
	}
	if len(reasons) > 0 {
		return false, reasons[0], nil
	}
	return false, "", nil
}

// LostSeckillOrder reports whether an order id of the user, which the
// database holds neither as an order nor as a refusal and Redis does not
// know, is of a buy that Redis lost: decided (the id starts with its time,
// to the second, then the user id: NewOrderID) within a sale's window, not
// after that sale's latest rebuild in Redis. Such a buy is never written
// (PersistSeckillOrders refuses an earlier load's orders). False for an id
// that is not the user's.
func (s *Sales) LostSeckillOrder(ctx context.Context, uid int64, orderID string) (bool, error) {
	if len(orderID) < 23 || orderID[14:23] != fmt.Sprintf("%09d", uid) {
		return false, nil
	}
	at, err := time.Parse("20060102150405", orderID[:14])
	if err != nil {
		return false, nil
	}
	var n int64
	err = s.db.WithContext(ctx).Model(&Sale{}).
		Where("rebuilt_at IS NOT NULL AND rebuilt_at >= ? AND start_time < ? AND end_time >= ? AND create_time < ?",
			at, at.Add(time.Second), at, at.Add(time.Second)).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("flash-sale order %q lost: %w", orderID, err)
	}
	return n > 0, nil
}

// SaleState is what the database holds of an open sale, for Redis to be
// loaded from: never the sale's total, always what is left of it.
type SaleState struct {
	Sale    Sale             // Sold as persisted; Loads counts this load
	Rebuild bool             // the sale was loaded before: Redis lost it
	Buyers  map[int64]int    // units per buyer
	Orders  map[string]int64 // every order written: order id -> user id
}

// errLoaded rolls LoadSale's transaction back.
var errLoaded = errors.New("the sale is in Redis already")

// LoadSale loads an open sale into Redis: under the sale's row lock, so
// that no order of it is persisted meanwhile, it counts one more load
// (Sale.Loads; from the second on, RebuiltAt is set), reads what the
// database holds of the sale and calls load with it, which writes Redis.
// load reports false when Redis has the sale already: then nothing is
// recorded. load may run more than once. It reports whether load loaded
// the sale.
//
// Returns ErrNotFound for a sale that does not exist or is not open.
func (s *Sales) LoadSale(ctx context.Context, saleID int64, load func(ctx context.Context, st *SaleState) (bool, error)) (bool, error) {
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		// rebuilt_at first: MySQL assigns left to right, with new values.
		r := tx.Exec("UPDATE tb_seckill_sale SET rebuilt_at = CASE WHEN loads > 0 THEN ? ELSE rebuilt_at END, loads = loads + 1, update_time = ? WHERE id = ? AND status = ?",
			tx.Now, tx.Now, saleID, SaleOpen)
		if r.Error != nil {
			return fmt.Errorf("count a load: %w", r.Error)
		}
		if r.RowsAffected == 0 {
			return fmt.Errorf("open sale %d: %w", saleID, ErrNotFound)
		}
		st := &SaleState{Buyers: map[int64]int{}, Orders: map[string]int64{}}
		if err := tx.Take(&st.Sale, saleID).Error; err != nil {
			return translate(err)
		}
		st.Rebuild = st.Sale.Loads > 1
		var buyers []buyerRow
		if err := tx.Where("sale_id = ?", saleID).Find(&buyers).Error; err != nil {
			return fmt.Errorf("read buyers: %w", err)
		}
		for _, b := range buyers {
			st.Buyers[b.UserID] = b.Units
		}
		var orders []SaleOrder
		if err := tx.Select("order_id", "user_id").Where("sale_id = ?", saleID).Find(&orders).Error; err != nil {
			return fmt.Errorf("read orders: %w", err)
		}
		for _, o := range orders {
			st.Orders[o.OrderID] = o.UserID
		}
		loaded, err := load(tx.Statement.Context, st)
		if err != nil {
			return err
		}
		if !loaded {
			return errLoaded
		}
		return nil
	})
	if errors.Is(err, errLoaded) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("load sale %d: %w", saleID, err)
	}
	return true, nil
}
