package order_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// Every status change writes its tb_order_event, with who and why; a
// refused one writes nothing.
func TestOrderEvents(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			staff := db.Staff()
			sku := db.LedgerSKU(db.SPU("events"), "e", "2.00", 100)
			o := order.New(db.Store, order.Config{Strategy: order.StrategyConditional})
			place := func(pay int) string {
				t.Helper()
				got, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: pay, Items: []order.Item{{SKUID: sku, Count: 1}}})
				if err != nil {
					t.Fatal(err)
				}
				return got.OrderID
			}
			type event struct {
				From, To int
				Who      int64
				Why      string
			}
			check := func(id string, want ...event) {
				t.Helper()
				evs, err := o.Events(ctx, id)
				if err != nil {
					t.Fatal(err)
				}
				var got []event
				for _, e := range evs {
					g := event{To: e.ToStatus, Why: e.Why}
					if e.FromStatus != nil {
						g.From = *e.FromStatus
					}
					if e.UserID != nil {
						g.Who = *e.UserID
					}
					got = append(got, g)
				}
				if diff := cmp.Diff(want, got); diff != "" {
					t.Errorf("events of %s (-want +got):\n%s", id, diff)
				}
			}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatal(err)
				}
			}

			cash := place(models.PayCash)
			must(o.ShipOrder(ctx, cash, &staff))
			must(o.ReceiveOrder(ctx, uid, cash))
			must(o.CompleteOrder(ctx, cash, &staff))
			check(cash,
				event{models.StatusUnsend, models.StatusUnreceived, staff, order.WhyShipped},
				event{models.StatusUnreceived, models.StatusUncomment, uid, order.WhyReceived},
				event{models.StatusUncomment, models.StatusFinished, staff, order.WhyCompleted})

			expired := place(models.PayOnline)
			time.Sleep(2 * time.Millisecond)
			if n, err := o.ExpireUnpaid(ctx, time.Millisecond); err != nil || n != 1 {
				t.Fatalf("expired %d, %v; want 1", n, err)
			}
			check(expired, event{models.StatusUnpaid, models.StatusCanceled, 0, order.WhyExpired})

			canceled := place(models.PayOnline)
			must(o.CancelOwnOrder(ctx, uid, canceled))
			if err := o.ShipOrder(ctx, canceled, &staff); !errors.Is(err, models.ErrWrongStatus) {
				t.Errorf("ship a canceled order: %v", err)
			}
			if err := o.ReceiveOrder(ctx, uid+1, cash); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("someone else receives: %v", err)
			}
			check(canceled, event{models.StatusUnpaid, models.StatusCanceled, uid, order.WhyCanceled})
			db.LedgerHolds()
		})
	}
}
