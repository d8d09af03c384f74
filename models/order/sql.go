package order

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// The statements the commit builds: plain INSERTs rather than tx.Create,
// since they run for every order and GORM's reflective create cost an
// eighth of the commit's CPU.

// rows are the order header and lines that a plan becomes. The order id
// is drawn at the first try and kept.
func (o *Orders) rows(p *plan, now time.Time) (models.OrderRow, []models.OrderLine) {
	if p.id == "" {
		p.id = o.orderID(p.req.UserID, now)
	}
	status := models.StatusUnpaid
	if p.req.PayMethod == models.PayCash {
		status = models.StatusUnsend
	}
	head := models.OrderRow{
		OrderID: p.id, CreateTime: now, UpdateTime: now,
		UserID: p.req.UserID, AddressID: p.req.AddressID,
		TotalCount: p.count, TotalAmount: p.total, Freight: models.Freight,
		PayMethod: p.req.PayMethod, Status: status,
	}
	if p.req.Token != "" {
		head.CommitToken = &p.req.Token
	}
	lines := make([]models.OrderLine, len(p.lines))
	for i, l := range p.lines {
		lines[i] = models.OrderLine{CreateTime: now, UpdateTime: now, OrderID: head.OrderID, SKUID: l.SKU.ID,
			Count: l.Count, Price: l.SKU.Price, Score: 5}
	}
	return head, lines
}

// insertOrders inserts order headers in one statement. Returns errIDTaken
// if one collides on a unique index (an order id or a commit token).
func insertOrders(tx *models.Tx, heads ...models.OrderRow) error {
	var q strings.Builder
	q.WriteString(`INSERT INTO tb_order_info (order_id, create_time, update_time, user_id, address_id,
		total_count, total_amount, freight, pay_method, status, commit_token) VALUES `)
	args := make([]any, 0, 11*len(heads))
	for i, h := range heads {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?,?)")
		args = append(args, h.OrderID, h.CreateTime, h.UpdateTime, h.UserID, h.AddressID,
			h.TotalCount, h.TotalAmount, h.Freight, h.PayMethod, h.Status, h.CommitToken)
	}
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		if errors.Is(models.Translate(err), models.ErrDuplicate) {
			return errIDTaken
		}
		return fmt.Errorf("insert order %s (and %d more): %w", heads[0].OrderID, len(heads)-1, err)
	}
	return nil
}

// insertLines inserts order lines, of one order or several, in one
// statement.
func insertLines(tx *models.Tx, lines []models.OrderLine) error {
	if len(lines) == 0 {
		return nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO tb_order_goods (create_time, update_time, order_id, sku_id, count, price,
		comment, score, is_anonymous, is_commented) VALUES `)
	args := make([]any, 0, 10*len(lines))
	for i, l := range lines {
		if i > 0 {
			q.WriteString(",")
		}
		q.WriteString("(?,?,?,?,?,?,?,?,?,?)")
		args = append(args, l.CreateTime, l.UpdateTime, l.OrderID, l.SKUID, l.Count, l.Price,
			l.Comment, l.Score, l.IsAnonymous, l.IsCommented)
	}
	if err := tx.Exec(q.String(), args...).Error; err != nil {
		return fmt.Errorf("insert lines of order %s: %w", lines[0].OrderID, err)
	}
	return nil
}

// addSPUSales adds sold units to an SPU's sales.
func addSPUSales(tx *models.Tx, sp spuSale) error {
	if err := tx.Exec("UPDATE tb_spu SET sales = sales + ? WHERE id = ?", sp.count, sp.id).Error; err != nil {
		return fmt.Errorf("add %d sales to spu %d: %w", sp.count, sp.id, err)
	}
	return nil
}

// saleEntry is the ledger entry of an order line taking n units.
func saleEntry(tx *models.Tx, uid int64, orderID string, sku int64, n, after int) models.LedgerEntry {
	return models.LedgerEntry{CreateTime: tx.Now, SKUID: sku, Delta: -n, StockAfter: after,
		Reason: models.ReasonSale, UserID: &uid, OrderID: &orderID}
}

// skuWriter updates the SKUs of one order and keeps the sale entries of
// the stock ledger that are still to be written.
type skuWriter struct {
	tx      *models.Tx
	uid     int64
	orderID string
	pending []models.LedgerEntry
}

// update runs stmt, an UPDATE of tb_sku from stock.go with its named
// arguments (args["id"] the SKU, args["n"] the units taken), and reports
// whether it matched the row. after is the stock after the update when the
// caller knows it (what it saw or locked, minus n), or -1: then it is read
// back, with RETURNING on SQLite and a read of the row this transaction
// now holds locked on MySQL.
//
// On PostgreSQL the same statement also writes the sale's ledger entry
// (RETURNING gives the stock after) and, with spu, adds the SPU's sales,
// all in one round trip while the hot row is locked; on the others the
// entry is kept in pending.
func (u *skuWriter) update(stmt string, args map[string]any, after int, spu *spuSale) (bool, error) {
	sku, n := args["id"].(int64), args["n"].(int)
	switch {
	case u.tx.Dialect == migrations.Postgres:
		q := "WITH k AS (" + stmt + " RETURNING id, spu_id, stock)" +
			", l AS (INSERT INTO tb_stock_ledger (create_time, sku_id, delta, stock_after, reason, user_id, order_id, note)" +
			" SELECT @now, k.id, @delta, k.stock, @reason, @uid, @order_id, '' FROM k)"
		args["now"], args["delta"], args["reason"], args["uid"], args["order_id"] = u.tx.Now, -n, models.ReasonSale, u.uid, u.orderID
		if spu != nil {
			q += ", s AS (UPDATE tb_spu SET sales = sales + @spu_units FROM k WHERE tb_spu.id = k.spu_id)"
			args["spu_units"] = spu.count
		}
		var got []int
		if err := u.tx.Raw(q+" SELECT stock FROM k", args).Scan(&got).Error; err != nil {
			return false, err
		}
		return len(got) == 1, nil
	case after < 0 && u.tx.Dialect == migrations.SQLite:
		var got []int
		if err := u.tx.Raw(stmt+" RETURNING stock", args).Scan(&got).Error; err != nil {
			return false, err
		}
		if len(got) != 1 {
			return false, nil
		}
		after = got[0]
	default:
		res := u.tx.Exec(stmt, args)
		if res.Error != nil || res.RowsAffected != 1 {
			return false, res.Error
		}
		if after < 0 {
			if err := u.tx.Raw("SELECT stock FROM tb_sku WHERE id = ?", sku).Scan(&after).Error; err != nil {
				return false, err
			}
		}
	}
	u.pending = append(u.pending, saleEntry(u.tx, u.uid, u.orderID, sku, n, after))
	return true, nil
}

// ownOrder returns the plan's order if a try whose COMMIT lost its answer
// wrote it: the plan's id, of its user, with its totals. nil if not.
func ownOrder(tx *models.Tx, p *plan) (*models.Order, error) {
	if p.id == "" {
		return nil, nil
	}
	var found []models.Order
	err := tx.Preload("Lines", orderLines).
		Where("order_id = ? AND user_id = ? AND total_count = ?", p.id, p.req.UserID, p.count).Limit(1).Find(&found).Error
	if err != nil {
		return nil, fmt.Errorf("look for order %s: %w", p.id, err)
	}
	if len(found) == 0 || !found[0].TotalAmount.Equal(p.total) {
		return nil, nil
	}
	return &found[0], nil
}
