package order

import (
	"errors"
	"fmt"

	"github.com/meiduo/shop/migrations"
	"github.com/meiduo/shop/models"
)

// errIDTaken means the order header's insert hit a unique index: the order
// id, or the user's commit token.
var errIDTaken = errors.New("order id or commit token taken")

// placeSavepoint is the savepoint each plan is written in. One name does
// for all: a new SAVEPOINT of the same name hides (MySQL: replaces) the
// last, and ROLLBACK TO keeps it.
const placeSavepoint = "place_order"

// place writes one plan inside tx, in a savepoint, as the Django shop does:
// if it fails, the transaction goes back to where it was before the plan.
// If the header collides with an order of the same token, or with the
// plan's own order that a COMMIT which lost its answer wrote after all, that
// order is the answer; if it collides on the order id, it tries a new id.
//
// The savepoint is never released: COMMIT ends it, and a RELEASE would
// cost a round trip while the hot rows are locked.
func (o *Orders) place(tx *models.Tx, p *plan) (*models.Order, error) {
	if tx.Unsure {
		// The last try's COMMIT lost its answer: it may have placed this.
		p.unsure = true
		if prior, err := ownOrder(tx, p); err != nil || prior != nil {
			return prior, err
		}
	}
	for {
		if err := tx.SavePoint(placeSavepoint).Error; err != nil {
			return nil, fmt.Errorf("savepoint: %w", err)
		}
		order, err := o.write(tx, p)
		if err != nil && !models.Transient(err) {
			// (A transient error aborts the whole transaction: MySQL has
			// dropped the savepoint after a deadlock, and Transact runs
			// it again.)
			if rerr := tx.RollbackTo(placeSavepoint).Error; rerr != nil {
				return nil, fmt.Errorf("%w (and rolling back to the savepoint: %v)", err, rerr)
			}
		}
		if !errors.Is(err, errIDTaken) {
			return order, err
		}
		if p.unsure {
			// The lost COMMIT was still on its way when we looked: our
			// insert waited for it, and it wrote this order.
			if prior, err := ownOrder(tx, p); err != nil || prior != nil {
				return prior, err
			}
		}
		if p.req.Token != "" {
			prior, err := orderByToken(tx.DB, p.req.UserID, p.req.Token)
			if err == nil {
				return prior, nil
			}
			if !errors.Is(err, models.ErrNotFound) {
				return nil, err
			}
		}
		if err := tx.Statement.Context.Err(); err != nil {
			return nil, err
		}
		p.id = "" // taken by another order: draw a new one
	}
}

// write inserts the order and takes the stock. The statements that touch
// no hot row come first and the stock and sales updates last, right before
// COMMIT, so the hot rows stay locked as briefly as possible.
func (o *Orders) write(tx *models.Tx, p *plan) (*models.Order, error) {
	head, lines := o.rows(p, tx.Now)
	// On MySQL the foreign key check of an order line takes a shared lock
	// on its SKU row; two buyers holding it would deadlock when each then
	// updates the row. So there the lines go in after the stock update,
	// which by then holds the row exclusively. PostgreSQL's key-share lock
	// and SQLite's single writer have no such conflict.
	linesLater := tx.Dialect == migrations.MySQL
	if err := insertOrders(tx, head); err != nil {
		return nil, err
	}
	if !linesLater {
		if err := insertLines(tx, lines); err != nil {
			return nil, err
		}
	}
	folded, sales, err := o.takeStock(tx, p, head.OrderID)
	if err != nil {
		return nil, err
	}
	if linesLater {
		if err := insertLines(tx, lines); err != nil {
			return nil, err
		}
	}
	// The sale entries that takeStock did not write itself (all but
	// PostgreSQL's), in one statement.
	if err := models.RecordStock(tx, sales...); err != nil {
		return nil, fmt.Errorf("order %s: %w", head.OrderID, err)
	}
	if !folded {
		for _, sp := range p.spus {
			if err := addSPUSales(tx, sp); err != nil {
				return nil, err
			}
		}
	}
	return head.Order(lines), nil
}
