package testkit

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// The invariants of the order commit (README, "Invariants"): stock never
// below zero; stock taken = units ordered = sales gained, per SKU and SPU;
// every order's totals are its lines plus freight; every success reply has
// exactly one order and no order lacks one; "insufficient stock" only when
// it was. For tests and the load tool: take a
// Snapshot while nothing is being sold, run the buyers, then call
// CheckInvariants with what the buyers were told.

// Snapshot is the stock and sales of every SKU, the sales of every SPU,
// the ids of the orders that exist and of those canceled, and the last
// stock ledger entry, at one moment.
type Snapshot struct {
	SKUs     map[int64]SKUState
	SPUs     map[int64]int // sales
	Orders   map[string]bool
	Canceled map[string]bool
	Ledger   int64 // the id of the last ledger entry
}

// SKUState is a SKU's counters in a Snapshot.
type SKUState struct {
	SPUID int64
	Stock int
	Sales int
}

// Outcome is what the buyers of a run were told.
type Outcome struct {
	// Placed holds the order id of every reply with code 0.
	Placed []string
	// Short holds, for every "insufficient stock" reply, the counts that
	// request wanted, by SKU id.
	Short []map[int64]int
	// Replays allows an order id in Placed more than once: buyers who
	// posted the same commit token twice get the same order twice.
	Replays bool
}

// Violation is one broken invariant.
type Violation struct {
	Rule   string
	Detail string
}

func (v Violation) String() string { return v.Rule + ": " + v.Detail }

// TakeSnapshot reads the counters the invariants compare.
func TakeSnapshot(ctx context.Context, st *models.Store) (*Snapshot, error) {
	s := on(st)
	// One transaction, so that the reads agree with each other even while
	// the shop keeps working (a cancellation in between would otherwise
	// show its order canceled but not its stock back, or the reverse).
	// SQLite's transaction is its one writer's: nothing writes meanwhile.
	var opts []*sql.TxOptions
	if s.dialect != migrations.SQLite {
		opts = append(opts, &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true})
	}
	var snap *Snapshot
	err := s.db.WithContext(ctx).Transaction(func(db *gorm.DB) error {
		var err error
		snap, err = takeSnapshot(db)
		return err
	}, opts...)
	return snap, err
}

func takeSnapshot(db *gorm.DB) (*Snapshot, error) {
	snap := &Snapshot{SKUs: map[int64]SKUState{}, SPUs: map[int64]int{}, Orders: map[string]bool{}, Canceled: map[string]bool{}}
	var skus []struct {
		ID    int64
		SPUID int64 `gorm:"column:spu_id"`
		Stock int
		Sales int
	}
	if err := db.Model(&models.SKU{}).Select("id", "spu_id", "stock", "sales").Find(&skus).Error; err != nil {
		return nil, fmt.Errorf("snapshot skus: %w", err)
	}
	for _, k := range skus {
		snap.SKUs[k.ID] = SKUState{SPUID: k.SPUID, Stock: k.Stock, Sales: k.Sales}
	}
	var spus []struct {
		ID    int64
		Sales int
	}
	if err := db.Model(&models.SPU{}).Select("id", "sales").Find(&spus).Error; err != nil {
		return nil, fmt.Errorf("snapshot spus: %w", err)
	}
	for _, p := range spus {
		snap.SPUs[p.ID] = p.Sales
	}
	var orders []struct {
		OrderID string
		Status  int
	}
	if err := db.Model(&models.Order{}).Select("order_id", "status").Find(&orders).Error; err != nil {
		return nil, fmt.Errorf("snapshot orders: %w", err)
	}
	for _, o := range orders {
		snap.Orders[o.OrderID] = true
		if o.Status == models.StatusCanceled {
			snap.Canceled[o.OrderID] = true
		}
	}
	if err := db.Model(&models.LedgerEntry{}).Select("COALESCE(MAX(id), 0)").Scan(&snap.Ledger).Error; err != nil {
		return nil, fmt.Errorf("snapshot stock ledger: %w", err)
	}
	return snap, nil
}

// CheckInvariants compares the database now with before and with what the
// buyers were told, and returns every invariant that does not hold:
//   - stock >= 0 for every SKU;
//   - for every SKU, the sales gained = the units ordered since before
//     (the counts of the new orders' lines) minus the units returned by
//     the orders canceled since before (new or old); and the stock lost =
//     that, minus the stock moved by other means meanwhile (the ledger's
//     adjustments and flash-sale moves since before);
//   - for every SPU, the sales gained = the sum of its SKUs' sales gained;
//   - every new order has lines, total_count = the sum of their counts and
//     total_amount = the sum of count × price + freight;
//   - the new orders are exactly the orders answered with code 0;
//   - no undersell: every buyer told "insufficient stock" wanted more of
//     some SKU than is left now (when no stock came back to that SKU
//     during the run, stock only fell, so it was short when they were
//     told; a SKU that got stock back cannot be judged from the end state
//     and counts as short).
//
// It must run after the buyers are done.
func CheckInvariants(ctx context.Context, st *models.Store, before *Snapshot, seen Outcome) ([]Violation, error) {
	s := on(st)
	after, err := TakeSnapshot(ctx, st)
	if err != nil {
		return nil, err
	}
	var bad []Violation
	add := func(rule, format string, args ...any) {
		bad = append(bad, Violation{Rule: rule, Detail: fmt.Sprintf(format, args...)})
	}

	var newIDs []string
	for id := range after.Orders {
		if !before.Orders[id] {
			newIDs = append(newIDs, id)
		}
	}
	sort.Strings(newIDs)
	orders, err := s.ordersWithLines(ctx, newIDs)
	if err != nil {
		return nil, err
	}

	var canceled []string
	for id := range after.Canceled {
		if !before.Canceled[id] && before.Orders[id] {
			canceled = append(canceled, id)
		}
	}
	sort.Strings(canceled)
	old, err := s.ordersWithLines(ctx, canceled)
	if err != nil {
		return nil, err
	}
	returned := map[int64]int{}
	for _, o := range old {
		for _, l := range o.Lines {
			returned[l.SKUID] += l.Count
		}
	}
	moved, err := s.movedSince(ctx, before.Ledger)
	if err != nil {
		return nil, err
	}

	// Flash-sale orders took no stock: it left the SKU when the sale opened
	// (a move in the ledger).
	flash, err := s.flashUnits(ctx, newIDs)
	if err != nil {
		return nil, err
	}
	sold := map[int64]int{}
	for _, o := range orders {
		if o.Status == models.StatusCanceled {
			for _, l := range o.Lines {
				returned[l.SKUID] += l.Count
			}
		}
		count, amount := 0, decimal.Zero
		for _, l := range o.Lines {
			sold[l.SKUID] += l.Count
			count += l.Count
			amount = amount.Add(l.Price.Mul(decimal.NewFromInt(int64(l.Count))))
		}
		amount = amount.Add(o.Freight)
		if len(o.Lines) == 0 {
			add("order has lines", "order %s has none", o.OrderID)
		}
		if o.TotalCount != count {
			add("order total_count", "order %s: total_count %d, lines add up to %d", o.OrderID, o.TotalCount, count)
		}
		if !o.TotalAmount.Equal(amount) {
			add("order total_amount", "order %s: total_amount %s, lines plus freight add up to %s", o.OrderID, o.TotalAmount, amount)
		}
	}

	skuIDs := make([]int64, 0, len(after.SKUs))
	for id := range after.SKUs {
		skuIDs = append(skuIDs, id)
	}
	sort.Slice(skuIDs, func(i, j int) bool { return skuIDs[i] < skuIDs[j] })
	spuGained := map[int64]int{}
	for _, id := range skuIDs {
		now := after.SKUs[id]
		if now.Stock < 0 {
			add("stock >= 0", "sku %d has stock %d", id, now.Stock)
		}
		net := sold[id] - returned[id]
		was, ok := before.SKUs[id]
		if !ok {
			was = SKUState{SPUID: now.SPUID, Stock: now.Stock + net - flash[id] - moved[id], Sales: now.Sales - net}
		}
		lost, gained := was.Stock-now.Stock, now.Sales-was.Sales
		if lost != net-flash[id]-moved[id] || gained != net {
			add("stock lost = units ordered - returned - moved; sales gained = units ordered - returned",
				"sku %d: stock %d -> %d (lost %d), ordered %d, returned %d, moved %d, sales %d -> %d (gained %d)",
				id, was.Stock, now.Stock, lost, sold[id], returned[id], moved[id], was.Sales, now.Sales, gained)
		}
		spuGained[now.SPUID] += gained
	}
	spuIDs := make([]int64, 0, len(after.SPUs))
	for id := range after.SPUs {
		spuIDs = append(spuIDs, id)
	}
	sort.Slice(spuIDs, func(i, j int) bool { return spuIDs[i] < spuIDs[j] })
	for _, id := range spuIDs {
		if gained := after.SPUs[id] - before.SPUs[id]; gained != spuGained[id] {
			add("spu sales gained = sum over its skus", "spu %d: sales gained %d, its skus gained %d", id, gained, spuGained[id])
		}
	}

	placed := map[string]int{}
	for _, id := range seen.Placed {
		placed[id]++
	}
	for _, id := range seen.Placed {
		n := placed[id]
		switch {
		case n == 0:
			continue // reported already
		case !after.Orders[id] || before.Orders[id]:
			add("every code 0 has its order", "order %s was answered with code 0 but was not made by this run", id)
		case n > 1 && !seen.Replays:
			add("one order per code 0", "order %s was answered with code 0 %d times", id, n)
		}
		placed[id] = 0
	}
	seenPlaced := map[string]bool{}
	for _, id := range seen.Placed {
		seenPlaced[id] = true
	}
	for _, id := range newIDs {
		if !seenPlaced[id] {
			add("no order without code 0", "order %s exists but no buyer was told so", id)
		}
	}

	for i, wanted := range seen.Short {
		short := false
		for id, n := range wanted {
			if after.SKUs[id].Stock < n || returned[id] > 0 || moved[id] != 0 {
				short = true
			}
		}
		if !short {
			add("no undersell", "buyer %d was told stock was short for %v, but stock is now %s", i, wanted, stockOf(after, wanted))
		}
	}
	return bad, nil
}

func stockOf(snap *Snapshot, wanted map[int64]int) string {
	ids := make([]int64, 0, len(wanted))
	for id := range wanted {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	out := "{"
	for i, id := range ids {
		if i > 0 {
			out += " "
		}
		out += fmt.Sprintf("%d:%d", id, snap.SKUs[id].Stock)
	}
	return out + "}"
}

// ordersWithLines loads orders by id, with their lines, a chunk at a time.
func (s kit) ordersWithLines(ctx context.Context, ids []string) ([]models.Order, error) {
	var out []models.Order
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var chunk []models.Order
		err := s.db.WithContext(ctx).Preload("Lines", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).Where("order_id IN ?", ids[:n]).Find(&chunk).Error
		if err != nil {
			return nil, fmt.Errorf("orders made during the run: %w", err)
		}
		out = append(out, chunk...)
		ids = ids[n:]
	}
	return out, nil
}

// movedSince sums, per SKU, the ledger's deltas after entry id that are
// neither sales nor cancellations: adjustments, flash-sale moves, the
// first stock of new SKUs.
func (s kit) movedSince(ctx context.Context, id int64) (map[int64]int, error) {
	var rows []struct {
		SKUID int64 `gorm:"column:sku_id"`
		Total int
	}
	err := s.db.WithContext(ctx).Model(&models.LedgerEntry{}).Select("sku_id, SUM(delta) AS total").
		Where("id > ? AND reason NOT IN ?", id, []string{models.ReasonSale, models.ReasonCancel}).Group("sku_id").Scan(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("stock moved since ledger entry %d: %w", id, err)
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.SKUID] = r.Total
	}
	return out, nil
}

// flashUnits adds up, by SKU, the units of the orders among ids that a
// flash sale made.
func (s kit) flashUnits(ctx context.Context, ids []string) (map[int64]int, error) {
	out := map[int64]int{}
	for len(ids) > 0 {
		n := min(len(ids), 500)
		var rows []struct {
			SKUID int64 `gorm:"column:sku_id"`
			Units int
		}
		err := s.db.WithContext(ctx).Table("tb_order_goods g").Select("g.sku_id, SUM(g.count) AS units").
			Joins("JOIN tb_seckill_order f ON f.order_id = g.order_id").Where("g.order_id IN ?", ids[:n]).
			Group("g.sku_id").Scan(&rows).Error
		if err != nil {
			return nil, fmt.Errorf("flash-sale units: %w", err)
		}
		for _, r := range rows {
			out[r.SKUID] += r.Units
		}
		ids = ids[n:]
	}
	return out, nil
}
