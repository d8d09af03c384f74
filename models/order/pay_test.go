package order_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/models/testkit"
)

func TestRecordPayment(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.LedgerSKU(db.SPU("pay"), "p", "5.50", 100)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyConditional})
			place := func(pay int) *models.Order {
				t.Helper()
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []order.Item{{SKUID: sku, Count: 2}}})
				if err != nil {
					t.Fatal(err)
				}
				return got
			}
			status := func(id string) int { return db.Int("SELECT MAX(status) FROM tb_order_info WHERE order_id = ?", id) }
			payments := func(id string) int { return db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id) }
			amount := decimal.RequireFromString("21.00") // 2 × 5.50 + 10.00 freight

			online := place(models.PayOnline)
			got, err := o.RecordPayment(ctx, order.Payment{OrderID: online.OrderID, TradeID: "T1", Amount: amount})
			if err != nil || got != order.PaidNow {
				t.Fatalf("first payment: %v, %v; want PaidNow", got, err)
			}
			if s := status(online.OrderID); s != models.StatusUnsend {
				t.Errorf("status %d after payment, want %d", s, models.StatusUnsend)
			}
			for range 2 {
				got, err = o.RecordPayment(ctx, order.Payment{OrderID: online.OrderID, TradeID: "T1", Amount: amount})
				if err != nil || got != order.PaidBefore {
					t.Errorf("repeated payment: %v, %v; want PaidBefore", got, err)
				}
			}
			events, err := o.Events(ctx, online.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if len(events) != 1 || *events[0].FromStatus != models.StatusUnpaid || events[0].ToStatus != models.StatusUnsend ||
				events[0].UserID != nil || events[0].Why != order.WhyPaid {
				t.Errorf("events %+v, want one paid 1 -> 2 by the shop", events)
			}
			pays, err := o.Payments(ctx, online.OrderID)
			if err != nil {
				t.Fatal(err)
			}
			if len(pays) != 1 || pays[0].TradeID != "T1" || !pays[0].Amount.Equal(amount) || pays[0].ToRefund {
				t.Errorf("payments %+v, want one of T1, 21.00, not to refund", pays)
			}

			refused := []struct {
				name    string
				pay     order.Payment
				wantErr error
			}{
				{"another trade for a paid order", order.Payment{OrderID: online.OrderID, TradeID: "T2", Amount: amount}, order.ErrPaymentMismatch},
				{"a cent short", order.Payment{OrderID: place(models.PayOnline).OrderID, TradeID: "T3", Amount: decimal.RequireFromString("20.99")}, order.ErrPaymentMismatch},
				{"a cent over", order.Payment{OrderID: place(models.PayOnline).OrderID, TradeID: "T4", Amount: decimal.RequireFromString("21.01")}, order.ErrPaymentMismatch},
				{"cash on delivery", order.Payment{OrderID: place(models.PayCash).OrderID, TradeID: "T5", Amount: amount}, order.ErrPaymentMismatch},
				{"unknown order", order.Payment{OrderID: "nosuchorder", TradeID: "T6", Amount: amount}, models.ErrNotFound},
			}
			for _, tc := range refused {
				t.Run(tc.name, func(t *testing.T) {
					before := status(tc.pay.OrderID)
					_, err := o.RecordPayment(ctx, tc.pay)
					if !errors.Is(err, tc.wantErr) {
						t.Errorf("got %v, want %v", err, tc.wantErr)
					}
					if tc.pay.OrderID != online.OrderID && payments(tc.pay.OrderID) != 0 {
						t.Errorf("a payment was recorded")
					}
					if after := status(tc.pay.OrderID); after != before {
						t.Errorf("status moved from %d to %d", before, after)
					}
				})
			}

			t.Run("after a cancel", func(t *testing.T) {
				late := place(models.PayOnline)
				if err := o.CancelOwnOrder(ctx, uid, late.OrderID); err != nil {
					t.Fatal(err)
				}
				stock := db.SKUNow(sku).Stock
				for range 2 {
					got, err := o.RecordPayment(ctx, order.Payment{OrderID: late.OrderID, TradeID: "T7", Amount: amount})
					if err != nil || got != order.ToRefund {
						t.Errorf("late payment: %v, %v; want ToRefund", got, err)
					}
				}
				if s := status(late.OrderID); s != models.StatusCanceled {
					t.Errorf("status %d, want canceled", s)
				}
				if n := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND to_refund = ?", late.OrderID, true); n != 1 {
					t.Errorf("%d payments to refund, want 1", n)
				}
				if s := db.SKUNow(sku).Stock; s != stock {
					t.Errorf("stock moved from %d to %d", stock, s)
				}
			})

			t.Run("paid then canceled by staff", func(t *testing.T) {
				ord := place(models.PayOnline)
				if _, err := o.RecordPayment(ctx, order.Payment{OrderID: ord.OrderID, TradeID: "T8", Amount: amount}); err != nil {
					t.Fatal(err)
				}
				staff := db.Staff()
				if err := o.CancelOrder(ctx, ord.OrderID, &staff, ""); err != nil {
					t.Fatal(err)
				}
				if n := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND to_refund = ?", ord.OrderID, true); n != 1 {
					t.Errorf("%d payments to refund, want 1", n)
				}
				events, _ := o.Events(ctx, ord.OrderID)
				if len(events) != 2 || events[1].Why != order.WhyCanceled || events[1].UserID == nil || *events[1].UserID != staff {
					t.Errorf("events %+v, want paid then canceled by staff %d", events, staff)
				}
			})
			db.LedgerHolds()
		})
	}
}

// A payment (its notification and its return at once), the expiry and the
// buyer's cancel (of every other order) race on each order, many times: exactly one of them takes
// the order out of unpaid, the payment is recorded at most once (to refund
// when the order ends canceled), the stock comes back at most once, and
// the ledger and every invariant hold.
func TestPaymentRacesExpiryAndCancel(t *testing.T) {
	ctx := context.Background()
	const rounds, perRound = 6, 5
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			sku := db.LedgerSKU(db.SPU("race"), "r", "3.00", 1000)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyConditional})
			before := db.Snapshot()
			var placed []string
			won := map[string]int{}
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
				var mu sync.Mutex
				fail := func(what string, err error) {
					mu.Lock()
					defer mu.Unlock()
					t.Errorf("round %d: %s: %v", round, what, err)
				}
				wg.Go(func() {
					time.Sleep(time.Duration(round%3) * time.Millisecond) // let payments win some rounds
					if _, err := o.ExpireUnpaid(ctx, time.Millisecond); err != nil {
						fail("expire", err)
					}
				})
				for i, id := range ids {
					amount := amount(db, id)
					for _, trade := range []string{"notify", "return"} {
						wg.Go(func() {
							got, err := o.RecordPayment(ctx, order.Payment{OrderID: id, TradeID: "T" + id, Amount: amount})
							if err != nil {
								fail(trade, err)
								return
							}
							if got == order.PaidNow {
								mu.Lock()
								won[id]++
								mu.Unlock()
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
			outcomes := map[int]int{}
			for _, id := range placed {
				st := db.Int("SELECT status FROM tb_order_info WHERE order_id = ?", id)
				outcomes[st]++
				pays := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ?", id)
				refund := db.Int("SELECT COUNT(*) FROM tb_payment WHERE order_id = ? AND to_refund = ?", id, true)
				returns := db.Int("SELECT COUNT(*) FROM tb_stock_ledger WHERE reason = 'cancel' AND order_id = ?", id)
				leftUnpaid := db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND from_status = ?", id, models.StatusUnpaid)
				canceled := db.Int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND to_status = ?", id, models.StatusCanceled)
				got := fmt.Sprintf("status %d, %d payments (%d to refund), stock back %d times, %d ways out of unpaid, %d cancels, %d PaidNow",
					st, pays, refund, returns, leftUnpaid, canceled, won[id])
				ok := pays == 1 && leftUnpaid == 1 && won[id] <= 1
				switch st {
				case models.StatusUnsend:
					ok = ok && refund == 0 && returns == 0 && canceled == 0 && won[id] == 1
				case models.StatusCanceled:
					ok = ok && refund == 1 && returns == 1 && canceled == 1
				default:
					ok = false
				}
				if !ok {
					t.Errorf("order %s: %s", id, got)
				}
			}
			t.Logf("orders by final status: %v", outcomes)
			db.CheckInvariants(before, testkit.Outcome{Placed: placed})
			db.LedgerHolds()
		})
	}
}

// amount is an order's total_amount.
func amount(d *shopDB, id string) decimal.Decimal {
	d.T.Helper()
	var s string
	if err := d.SQL.QueryRow(d.Query("SELECT total_amount FROM tb_order_info WHERE order_id = ?"), id).Scan(&s); err != nil {
		d.T.Fatal(err)
	}
	return decimal.RequireFromString(s)
}
