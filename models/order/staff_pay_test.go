package order_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

// MarkPaid moves an unpaid online order to awaiting shipment once, with an
// offline payment and an event that says who and why; every refusal
// writes nothing.
func TestMarkPaid(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.LedgerSKU(db.SPU("offline"), "o", "5.50", 100)
			o := order.New(db.Store, order.Config{})
			staff := db.Staff()
			place := func(pay int) string {
				t.Helper()
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []order.Item{{SKUID: sku, Count: 2}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.OrderID
			}
			state := func(id string) string {
				return fmt.Sprintf("status %d, %d payments, %d events",
					db.Int("SELECT MAX(status) FROM tb_order_info WHERE order_id = ?", id),
					db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id),
					db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ?", id))
			}
			online, cash, canceled := place(models.PayOnline), place(models.PayCash), place(models.PayOnline)
			if err := o.CancelOwnOrder(ctx, uid, canceled); err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				name, id, reason string
				want             error
			}{
				{"no reason", online, "", models.ErrInvalid},
				{"an untrimmed reason", online, " cash ", models.ErrInvalid},
				{"a reason too long", online, strings.Repeat("款", order.MaxReason+1), models.ErrInvalid},
				{"a cash order", cash, "paid at the counter", order.ErrNotOnline},
				{"a canceled order", canceled, "paid at the counter", models.ErrWrongStatus},
				{"an unknown order", "nosuchorder", "paid at the counter", models.ErrNotFound},
			} {
				before := state(tt.id)
				if err := o.MarkPaid(ctx, tt.id, staff, tt.reason); !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
				}
				if after := state(tt.id); after != before {
					t.Errorf("%s: %s, was %s", tt.name, after, before)
				}
			}
			if err := o.MarkPaid(ctx, online, staff, "银行转账 2026-11-30"); err != nil {
				t.Fatal(err)
			}
			if err := o.MarkPaid(ctx, online, staff, "again"); !errors.Is(err, models.ErrWrongStatus) {
				t.Errorf("marked paid twice: %v, want ErrWrongStatus", err)
			}
			if got, want := state(online), "status 2, 1 payments, 1 events"; got != want {
				t.Errorf("after mark paid: %s, want %s", got, want)
			}
			pays, err := o.Payments(ctx, online)
			if err != nil {
				t.Fatal(err)
			}
			if len(pays) != 1 || !pays[0].Offline || pays[0].TradeID != "" || pays[0].ToRefund || !pays[0].Amount.Equal(amount(db, online)) {
				t.Errorf("payments %+v, want one offline of the order's amount", pays)
			}
			events, err := o.Events(ctx, online)
			if err != nil {
				t.Fatal(err)
			}
			if e := events[0]; *e.FromStatus != models.StatusUnpaid || e.ToStatus != models.StatusUnsend || e.UserID == nil ||
				*e.UserID != staff || e.Why != order.WhyPaidOffline || e.Note != "银行转账 2026-11-30" {
				t.Errorf("event %+v, want paid_offline 1 -> 2 by staff %d with the reason", e, staff)
			}
			// Alipay's payment of an order paid offline is not a second payment.
			if _, err := o.RecordPayment(ctx, order.Payment{OrderID: online, TradeID: "T-late", Amount: amount(db, online)}); !errors.Is(err, order.ErrPaymentMismatch) {
				t.Errorf("an Alipay payment after the offline one: %v, want ErrPaymentMismatch", err)
			}
			if got, want := state(online), "status 2, 1 payments, 1 events"; got != want {
				t.Errorf("after a late notification: %s, want %s", got, want)
			}
			db.LedgerHolds()
		})
	}
}

// A payment to refund is listed, refunded once (many staff at once), and
// then listed as refunded by whom; refusals write nothing.
func TestMarkRefunded(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.LedgerSKU(db.SPU("refund"), "r", "5.50", 100)
			o := order.New(db.Store, order.Config{})
			staff := db.Staff()
			place := func() string {
				t.Helper()
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayOnline, Items: []order.Item{{SKUID: sku, Count: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.OrderID
			}
			paid, late, unpaid := place(), place(), place()
			if _, err := o.RecordPayment(ctx, order.Payment{OrderID: paid, TradeID: "T-paid", Amount: amount(db, paid)}); err != nil {
				t.Fatal(err)
			}
			if err := o.CancelOwnOrder(ctx, uid, paid); err != nil { // canceled after paying
				t.Fatal(err)
			}
			if err := o.CancelOwnOrder(ctx, uid, late); err != nil {
				t.Fatal(err)
			}
			if out, err := o.RecordPayment(ctx, order.Payment{OrderID: late, TradeID: "T-late", Amount: amount(db, late)}); err != nil || out != order.ToRefund {
				t.Fatalf("late payment: %v, %v", out, err)
			}
			waiting, done, err := o.Refunds(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(waiting) != 2 || len(done) != 0 || waiting[0].OrderID != paid || waiting[1].OrderID != late ||
				waiting[0].TradeID != "T-paid" || !waiting[0].Amount.Equal(amount(db, paid)) || waiting[0].RefundedAt != nil {
				t.Fatalf("refunds: waiting %+v, done %+v; want both waiting, oldest first", waiting, done)
			}
			state := func(id string) string {
				return fmt.Sprintf("%d refunded, %d events", db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND refund_time IS NOT NULL", id),
					db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ?", id))
			}
			for _, tt := range []struct {
				name, id, note string
				want           error
			}{
				{"an order with no payment", unpaid, "", models.ErrNotFound},
				{"an unknown order", "nosuchorder", "", models.ErrNotFound},
				{"a note too long", paid, strings.Repeat("退", order.MaxReason+1), models.ErrInvalid},
			} {
				before := state(tt.id)
				if err := o.MarkRefunded(ctx, tt.id, staff, tt.note); !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
				}
				if after := state(tt.id); after != before {
					t.Errorf("%s: %s, was %s", tt.name, after, before)
				}
			}

			const clicks = 8
			var wg sync.WaitGroup
			var mu sync.Mutex
			wins := 0
			for range clicks {
				wg.Go(func() {
					err := o.MarkRefunded(ctx, paid, staff, "原路退回")
					mu.Lock()
					defer mu.Unlock()
					switch {
					case err == nil:
						wins++
					case !errors.Is(err, order.ErrRefunded):
						t.Errorf("refund: %v", err)
					}
				})
			}
			wg.Wait()
			if wins != 1 {
				t.Errorf("%d of %d refunds applied, want 1", wins, clicks)
			}
			if got := db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND why = ? AND from_status = 6 AND to_status = 6 AND user_id = ? AND note = ?",
				paid, order.WhyRefunded, staff, "原路退回"); got != 1 {
				t.Errorf("%d refunded events 6 -> 6 by staff with the note, want 1", got)
			}
			waiting, done, err = o.Refunds(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if len(waiting) != 1 || waiting[0].OrderID != late || len(done) != 1 || done[0].OrderID != paid || done[0].RefundedAt == nil || done[0].RefundedBy == "" {
				t.Errorf("refunds after one: waiting %+v, done %+v", waiting, done)
			}
			// The CHECK of 00012: only a payment to refund can be refunded.
			if err := db.Store.Gorm().Exec("UPDATE tb_payment SET to_refund = ? WHERE order_id = ?", false, paid).Error; err == nil {
				t.Errorf("a refunded payment was made not to refund")
			}
		})
	}
}

// Staff marking paid, Alipay's notification, the expiry and the buyer's
// cancel race on each order, many times: exactly one takes the order out
// of unpaid, it has one payment (offline, Alipay's, or Alipay's to
// refund), its stock comes back at most once, and every invariant holds.
func TestMarkPaidRaces(t *testing.T) {
	ctx := context.Background()
	const rounds, perRound = 5, 6
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			staff := db.Staff()
			sku := db.LedgerSKU(db.SPU("markrace"), "m", "3.00", 1000)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyConditional})
			before := db.Snapshot()
			var placed []string
			paidBy := map[string][]string{}
			var mu sync.Mutex
			for round := range rounds {
				ids := make([]string, perRound)
				for i := range ids {
					ord, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayOnline,
						Items: []order.Item{{SKUID: sku, Count: 1 + i%3}}})
					if err != nil {
						t.Fatal(err)
					}
					ids[i] = ord.OrderID
				}
				placed = append(placed, ids...)
				time.Sleep(2 * time.Millisecond) // older than the expiry's 1 ms
				var wg sync.WaitGroup
				fail := func(what string, err error) {
					mu.Lock()
					defer mu.Unlock()
					t.Errorf("round %d: %s: %v", round, what, err)
				}
				won := func(id, by string) {
					mu.Lock()
					defer mu.Unlock()
					paidBy[id] = append(paidBy[id], by)
				}
				wg.Go(func() {
					time.Sleep(time.Duration(round%3) * time.Millisecond)
					if _, err := o.ExpireUnpaid(ctx, time.Millisecond); err != nil {
						fail("expire", err)
					}
				})
				for i, id := range ids {
					amount := amount(db, id)
					for range 2 {
						wg.Go(func() {
							got, err := o.RecordPayment(ctx, order.Payment{OrderID: id, TradeID: "T" + id, Amount: amount})
							switch {
							case errors.Is(err, order.ErrPaymentMismatch): // marked paid offline first
							case err != nil:
								fail("notify", err)
							case got == order.PaidNow:
								won(id, "notify")
							}
						})
						wg.Go(func() {
							err := o.MarkPaid(ctx, id, staff, "paid at the counter")
							switch {
							case err == nil:
								won(id, "staff")
							case !errors.Is(err, models.ErrWrongStatus):
								fail("mark paid", err)
							}
						})
					}
					if i%2 == 1 {
						continue // the buyer cancels every other order
					}
					wg.Go(func() {
						if err := o.CancelOwnOrder(ctx, uid, id); err != nil && !errors.Is(err, models.ErrWrongStatus) {
							fail("cancel", err)
						}
					})
				}
				wg.Wait()
			}
			outcomes := map[string]int{}
			for _, id := range placed {
				st := db.Int("SELECT status FROM tb_order_info WHERE order_id = ?", id)
				pays := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id)
				offline := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND offline = ?", id, true)
				refund := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND to_refund = ?", id, true)
				returns := db.Int("SELECT COUNT(*) FROM tb_stock_ledger WHERE reason = 'cancel' AND order_id = ?", id)
				leftUnpaid := db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND from_status = ?", id, models.StatusUnpaid)
				paidEvents := db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND to_status = ?", id, models.StatusUnsend)
				got := fmt.Sprintf("status %d, %d payments (%d offline, %d to refund), stock back %d times, %d ways out of unpaid, %d paid events, paid by %v",
					st, pays, offline, refund, returns, leftUnpaid, paidEvents, paidBy[id])
				ok := pays == 1 && leftUnpaid == 1 && len(paidBy[id]) <= 1 && paidEvents == len(paidBy[id])
				switch st {
				case models.StatusUnsend:
					ok = ok && refund == 0 && returns == 0 && len(paidBy[id]) == 1 && (offline == 1) == (paidBy[id][0] == "staff")
				case models.StatusCanceled:
					ok = ok && refund == 1 && returns == 1
				default:
					ok = false
				}
				if !ok {
					t.Errorf("order %s: %s", id, got)
				}
				key := fmt.Sprintf("status %d", st)
				if len(paidBy[id]) == 1 {
					key += " paid by " + paidBy[id][0]
				}
				outcomes[key]++
			}
			t.Logf("outcomes: %v", outcomes)
			db.CheckInvariants(before, testkit.Outcome{Placed: placed})
			db.LedgerHolds()
		})
	}
}
