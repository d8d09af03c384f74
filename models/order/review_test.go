package order_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// ReviewLine refuses what the handler should have refused, and writes
// nothing then; a review of someone else's order is ErrNotFound.
func TestReviewLineRefusals(t *testing.T) {
	ctx := context.Background()
	for _, db := range orderDBs(t) {
		t.Run(db.Name, func(t *testing.T) {
			uid, addr := db.Buyer()
			other, _ := db.Buyer()
			sku := db.LedgerSKU(db.SPU("review"), "r", "1.00", 10)
			o := order.New(db.Store, order.Config{})
			placed, err := o.PlaceOrder(ctx, order.PlaceRequest{UserID: uid, AddressID: addr, PayMethod: models.PayCash, Items: []order.Item{{SKUID: sku, Count: 1}}})
			if err != nil {
				t.Fatal(err)
			}
			id := placed.OrderID
			good := order.Review{OrderID: id, SKUID: sku, Comment: "fine thing", Score: 5}
			if _, err := o.ReviewLine(ctx, uid, good); !errors.Is(err, models.ErrWrongStatus) {
				t.Errorf("review of an order awaiting shipment: %v, want ErrWrongStatus", err)
			}
			if err := o.ShipOrder(ctx, id, nil); err != nil {
				t.Fatal(err)
			}
			if err := o.ReceiveOrder(ctx, uid, id); err != nil {
				t.Fatal(err)
			}
			for _, tt := range []struct {
				name string
				uid  int64
				edit func(r *order.Review)
				want error
			}{
				{"short comment", uid, func(r *order.Review) { r.Comment = "good" }, models.ErrInvalid},
				{"long comment", uid, func(r *order.Review) { r.Comment = strings.Repeat("好", order.MaxComment+1) }, models.ErrInvalid},
				{"untrimmed comment", uid, func(r *order.Review) { r.Comment = " fine thing " }, models.ErrInvalid},
				{"score 0", uid, func(r *order.Review) { r.Score = 0 }, models.ErrInvalid},
				{"score 6", uid, func(r *order.Review) { r.Score = 6 }, models.ErrInvalid},
				{"another buyer", other, func(*order.Review) {}, models.ErrNotFound},
				{"unknown order", uid, func(r *order.Review) { r.OrderID = "nope" }, models.ErrNotFound},
				{"a sku not in the order", uid, func(r *order.Review) { r.SKUID = sku + 1000 }, order.ErrNoLine},
			} {
				r := good
				tt.edit(&r)
				if _, err := o.ReviewLine(ctx, tt.uid, r); !errors.Is(err, tt.want) {
					t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
				}
			}
			if n := db.Int("SELECT COUNT(*) FROM tb_order_goods WHERE order_id = ? AND is_commented = ?", id, true); n != 0 {
				t.Errorf("%d lines reviewed by refused reviews", n)
			}
			long := good
			long.Comment = strings.Repeat("好", 500) // the upper bound, kept whole
			finished, err := o.ReviewLine(ctx, uid, long)
			if err != nil || !finished {
				t.Fatalf("review of 500 characters: %v, finished %v", err, finished)
			}
			if got := db.Int("SELECT COUNT(*) FROM tb_order_goods WHERE order_id = ? AND comment = ?", id, long.Comment); got != 1 {
				t.Errorf("%d lines keep the 500-character comment whole, want 1", got)
			}
			if _, err := o.ReviewLine(ctx, uid, good); !errors.Is(err, models.ErrWrongStatus) {
				t.Errorf("a review of a finished order: %v, want ErrWrongStatus", err)
			}
		})
	}
}
