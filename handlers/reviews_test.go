package handlers_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
)

// received places a cash order of one unit of each SKU for b and takes it
// to awaiting review: shipped by the shop, then received by b over HTTP.
func (e *orderEnv) received(t *testing.T, b orderBuyer, skus ...int64) string {
	t.Helper()
	id := e.placeCash(t, b, skus...)
	if err := e.shop.Handlers.Orders.ShipOrder(context.Background(), id, nil); err != nil {
		t.Fatal(err)
	}
	if res := b.Do(http.MethodPost, "/orders/"+id+"/receive/", map[string]any{}); res.Status != http.StatusOK || res.Code(t) != 0 {
		t.Fatalf("receive: %d %s", res.Status, res.Body)
	}
	return id
}

// placeCash commits a cash order (status 2) of one unit of each SKU.
func (e *orderEnv) placeCash(t *testing.T, b orderBuyer, skus ...int64) string {
	t.Helper()
	for _, k := range skus {
		e.put(b, k, 1, true)
	}
	_, body := commit(t, b, map[string]any{"address_id": b.address, "pay_method": models.PayCash})
	id, ok := body["order_id"].(string)
	if !ok {
		t.Fatalf("commit: %v", body)
	}
	return id
}

// reviewState is everything a review may change.
func (e *orderEnv) reviewState(id string, skus ...int64) string {
	e.t.Helper()
	s := fmt.Sprintf("status %d, %d reviewed, %d events, spu comments %d",
		e.int("SELECT status FROM tb_order_info WHERE order_id = ?", id),
		e.int("SELECT COUNT(*) FROM tb_order_goods WHERE order_id = ? AND is_commented = ?", id, true),
		e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ?", id),
		e.int("SELECT comments FROM tb_spu WHERE id = ?", e.spu))
	for _, k := range skus {
		s += fmt.Sprintf(", sku %d comments %d", k, e.int("SELECT comments FROM tb_sku WHERE id = ?", k))
	}
	return s
}

func TestOrderReview(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			alice, bob := e.buyer(), e.buyer()
			phone, case_ := e.sku("华为 Mate 手机", "3999.00", 10), e.sku("手机壳", "29.00", 10)
			other := e.sku("耳机", "99.00", 10)
			id := e.received(t, alice, phone, case_)
			unshipped := e.placeCash(t, alice, other)
			bobs := e.received(t, bob, other)

			page := alice.Get("/orders/comment/?order_id=" + id)
			if page.Status != http.StatusOK {
				t.Fatalf("review page: %d", page.Status)
			}
			if got := len(testids(page.Body, "review-sku")); got != 2 {
				t.Errorf("review page lists %d lines, want 2", got)
			}
			for _, tt := range []struct {
				name, path string
				want       int
			}{
				{"someone else's order", "/orders/comment/?order_id=" + bobs, http.StatusNotFound},
				{"unknown order", "/orders/comment/?order_id=nope", http.StatusNotFound},
				{"no order id", "/orders/comment/", http.StatusNotFound},
				{"not awaiting review", "/orders/comment/?order_id=" + unshipped, http.StatusBadRequest},
			} {
				if res := alice.Get(tt.path); res.Status != tt.want {
					t.Errorf("review page of %s: %d, want %d", tt.name, res.Status, tt.want)
				}
			}

			good := func(over map[string]any) map[string]any {
				b := map[string]any{"order_id": id, "sku_id": phone, "comment": "很好用的手机", "score": 5, "is_anonymous": false}
				for k, v := range over {
					if v == nil {
						delete(b, k)
					} else {
						b[k] = v
					}
				}
				return b
			}
			before := e.reviewState(id, phone, case_)
			refusals := []struct {
				name       string
				body       any
				wantStatus int
				wantCode   int
				wantMsg    string
			}{
				{"malformed JSON", `{"order_id": `, 400, 400, "body"},
				{"no order id", good(map[string]any{"order_id": nil}), 400, 400, "order_id"},
				{"order id too long", good(map[string]any{"order_id": strings.Repeat("9", 65)}), 400, 400, "order_id"},
				{"no sku", good(map[string]any{"sku_id": nil}), 400, 400, "sku_id"},
				{"sku not a number", good(map[string]any{"sku_id": "x"}), 400, 400, "sku_id"},
				{"no score", good(map[string]any{"score": nil}), 400, 400, "score"},
				{"score 0", good(map[string]any{"score": 0}), 400, 400, "score"},
				{"score 6", good(map[string]any{"score": 6}), 400, 400, "score"},
				{"comment too short once trimmed", good(map[string]any{"comment": "   好用   "}), 400, 400, "comment"},
				{"comment too long", good(map[string]any{"comment": strings.Repeat("好", 501)}), 400, 400, "comment"},
				{"comment with a control character", good(map[string]any{"comment": "good \x1b[31m phone"}), 400, 400, "comment"},
				{"comment invisible only", good(map[string]any{"comment": "\u200b\u200b\u200b\u200b\u200b\u200b"}), 400, 400, "comment"},
				{"someone else's order", good(map[string]any{"order_id": bobs, "sku_id": other}), 404, 404, ""},
				{"unknown order", good(map[string]any{"order_id": "20260101000000000000001000001"}), 404, 404, ""},
				{"a sku not in the order", good(map[string]any{"sku_id": other}), 200, 400, "没有这件商品"},
				{"an order not awaiting review", good(map[string]any{"order_id": unshipped, "sku_id": other}), 200, 400, "状态"},
			}
			for _, tt := range refusals {
				t.Run(tt.name, func(t *testing.T) {
					res := alice.Do(http.MethodPost, "/orders/comment/", tt.body)
					body := res.JSON(t)
					if res.Status != tt.wantStatus || body["code"] != float64(tt.wantCode) {
						t.Errorf("%d %s, want HTTP %d code %d", res.Status, res.Body, tt.wantStatus, tt.wantCode)
					}
					if msg, _ := body["errmsg"].(string); !strings.Contains(msg, tt.wantMsg) || msg == "" {
						t.Errorf("errmsg %q does not say %q", msg, tt.wantMsg)
					}
					if got := e.reviewState(id, phone, case_); got != before {
						t.Errorf("after a refusal: %s, want %s", got, before)
					}
				})
			}

			token := alice.CSRF
			alice.CSRF = ""
			if res := alice.Do(http.MethodPost, "/orders/comment/", good(nil)); res.Status != http.StatusForbidden {
				t.Errorf("a review without the CSRF token: %d, want 403", res.Status)
			}
			alice.CSRF = token
			if got := e.reviewState(id, phone, case_); got != before {
				t.Errorf("after a post without the token: %s, want %s", got, before)
			}

			res := alice.Do(http.MethodPost, "/orders/comment/", good(map[string]any{"comment": "  屏幕很好，续航也不错  ", "score": "4", "is_anonymous": true}))
			if body := res.JSON(t); res.Status != http.StatusOK || body["code"] != 0.0 || body["finished"] != false {
				t.Fatalf("first review: %d %s", res.Status, res.Body)
			}
			if res := alice.Do(http.MethodPost, "/orders/comment/", good(nil)); res.Status != http.StatusOK || res.Code(t) != 400 ||
				!strings.Contains(res.JSON(t)["errmsg"].(string), "已评价") {
				t.Errorf("the same line again: %d %s, want code 400 (reviewed already)", res.Status, res.Body)
			}
			if got := len(testids(alice.Get("/orders/comment/?order_id="+id).Body, "review-sku")); got != 1 {
				t.Errorf("review page lists %d lines after one review, want 1", got)
			}
			res = alice.Do(http.MethodPost, "/orders/comment/", good(map[string]any{"sku_id": case_, "comment": "手感不错，做工好", "score": 3}))
			if body := res.JSON(t); res.Status != http.StatusOK || body["code"] != 0.0 || body["finished"] != true {
				t.Fatalf("last review: %d %s", res.Status, res.Body)
			}
			if got, want := e.reviewState(id, phone, case_), fmt.Sprintf("status 5, 2 reviewed, 3 events, spu comments 2, sku %d comments 1, sku %d comments 1", phone, case_); got != want {
				t.Errorf("after both reviews: %s, want %s", got, want)
			}
			if got := e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND why = 'reviewed' AND from_status = 4 AND to_status = 5 AND user_id = ?", id, alice.uid); got != 1 {
				t.Errorf("%d reviewed events 4 -> 5 by the buyer, want 1", got)
			}

			// The reviews as the SKU page and GET /comments/ show them.
			masked := order.MaskName(alice.username(t, e))
			for _, tt := range []struct {
				sku           int64
				user, comment string
				score         float64
			}{
				{phone, masked, "屏幕很好，续航也不错", 4},
				{case_, alice.username(t, e), "手感不错，做工好", 3},
			} {
				res := e.shop.NewClient(t).Get(fmt.Sprintf("/comments/%d/", tt.sku))
				body := res.JSON(t)
				list, _ := body["comment_list"].([]any)
				if res.Status != 200 || body["code"] != 0.0 || body["errmsg"] != "OK" || len(list) != 1 {
					t.Fatalf("GET /comments/%d/: %d %s", tt.sku, res.Status, res.Body)
				}
				got := list[0].(map[string]any)
				if got["username"] != tt.user || got["comment"] != tt.comment || got["score"] != tt.score {
					t.Errorf("comment of sku %d: %v, want %s %q %v", tt.sku, got, tt.user, tt.comment, tt.score)
				}
				page := e.shop.NewClient(t).Get(fmt.Sprintf("/detail/%d/", tt.sku))
				if got := testids(page.Body, "review-text"); len(got) != 1 || got[0] != tt.comment {
					t.Errorf("the SKU page shows reviews %q, want [%q]", got, tt.comment)
				}
				if got := testids(page.Body, "review-user"); len(got) != 1 || got[0] != tt.user {
					t.Errorf("the SKU page shows reviewers %q, want [%q]", got, tt.user)
				}
			}
			if res := e.shop.NewClient(t).Get("/comments/x/"); res.Status != http.StatusNotFound {
				t.Errorf("GET /comments/x/: %d, want 404", res.Status)
			}
			if list := e.shop.NewClient(t).Get("/comments/999999/").JSON(t)["comment_list"].([]any); len(list) != 0 {
				t.Errorf("an unknown SKU has comments %v", list)
			}
			if res := alice.Get("/orders/comment/?order_id=" + id); res.Status != http.StatusBadRequest {
				t.Errorf("review page of a finished order: %d, want 400", res.Status)
			}
		})
	}
}

// username is the buyer's username.
func (b orderBuyer) username(t *testing.T, e *orderEnv) string {
	t.Helper()
	u, err := e.db.Store.Accounts.UserByID(context.Background(), b.uid)
	if err != nil {
		t.Fatal(err)
	}
	return u.Username
}

func TestMaskName(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"alice01", "a***1"}, {"张三丰", "张***丰"}, {"ab", "a***b"}, {"x", "x***"}, {"", "***"},
	} {
		if got := order.MaskName(tt.in); got != tt.want {
			t.Errorf("MaskName(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// Many posts of reviews of one order at once, by the buyer: each line is
// reviewed exactly once whatever the race, and the order finishes once,
// with one event.
func TestOrderReviewConcurrent(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			b := e.buyer()
			skus := []int64{e.sku("a", "1.00", 100), e.sku("b", "2.00", 100)}
			for round := range 3 {
				id := e.received(t, b, skus...)
				const perLine = 8
				codes := make([][]int, len(skus))
				var wg sync.WaitGroup
				for i, k := range skus {
					codes[i] = make([]int, perLine)
					for j := range perLine {
						wg.Go(func() {
							res := b.Do(http.MethodPost, "/orders/comment/", map[string]any{
								"order_id": id, "sku_id": k, "comment": fmt.Sprintf("review %d of %d", j, k), "score": 1 + j%5})
							if res.Status == http.StatusServiceUnavailable {
								codes[i][j] = 503
								return
							}
							codes[i][j] = res.Code(t)
						})
					}
				}
				wg.Wait()
				for i := range skus {
					wins := 0
					for _, c := range codes[i] {
						switch c {
						case 0:
							wins++
						case 400, 503:
						default:
							t.Errorf("round %d: a review answered code %d", round, c)
						}
					}
					if wins != 1 {
						t.Errorf("round %d: line %d reviewed by %d posts, want exactly 1 (codes %v)", round, skus[i], wins, codes[i])
					}
				}
				if got := e.int("SELECT COUNT(*) FROM tb_order_goods WHERE order_id = ? AND is_commented = ?", id, true); got != 2 {
					t.Errorf("round %d: %d lines reviewed, want 2", round, got)
				}
				if got := e.int("SELECT status FROM tb_order_info WHERE order_id = ?", id); got != models.StatusFinished {
					t.Errorf("round %d: status %d, want 5", round, got)
				}
				if got := e.int("SELECT COUNT(*) FROM tb_order_event WHERE order_id = ? AND why = 'reviewed'", id); got != 1 {
					t.Errorf("round %d: %d reviewed events, want 1", round, got)
				}
				for _, k := range skus {
					if got := e.int("SELECT comments FROM tb_sku WHERE id = ?", k); got != round+1 {
						t.Errorf("round %d: sku %d has %d comments, want %d", round, k, got, round+1)
					}
				}
			}
		})
	}
}

// The score's CHECK holds in the database itself (migration 00009),
// whatever a writer sends.
func TestReviewScoreCheck(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			b := e.buyer()
			id := e.placeCash(t, b, e.sku("a", "1.00", 10))
			for _, bad := range []struct {
				name string
				q    string
				args []any
			}{
				{"score 0", "UPDATE tb_order_goods SET score = 0 WHERE order_id = ?", []any{id}},
				{"score 6", "UPDATE tb_order_goods SET score = 6 WHERE order_id = ?", []any{id}},
				{"reviewed without a time", "UPDATE tb_order_goods SET is_commented = ? WHERE order_id = ?", []any{true, id}},
			} {
				if _, err := e.sql.Exec(e.query(bad.q), bad.args...); err == nil {
					t.Errorf("%s: the database took it", bad.name)
				}
			}
			if got := e.int("SELECT score FROM tb_order_goods WHERE order_id = ?", id); got != 5 {
				t.Errorf("score %d, want the default 5", got)
			}
		})
	}
}

// A SKU's reviews come a page at a time, over JSON and on its page, newest
// first; a bad page is a clear answer, never a 500.
func TestSKUCommentsPaged(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			e := newOrderEnv(t, db, nil, nil)
			b := e.buyer()
			sku := e.sku("paged", "1.00", 100)
			const n = order.ReviewsPerPage + 2
			for i := range n {
				id := e.received(t, b, sku)
				res := b.Do(http.MethodPost, "/orders/comment/", map[string]any{"order_id": id, "sku_id": sku, "comment": fmt.Sprintf("review %02d", i), "score": 5})
				if res.Status != http.StatusOK || res.Code(t) != 0 {
					t.Fatalf("review %d: %d %s", i, res.Status, res.Body)
				}
			}
			anon := e.shop.NewClient(t)
			comments := func(list []any) []string {
				var out []string
				for _, c := range list {
					out = append(out, c.(map[string]any)["comment"].(string))
				}
				return out
			}
			want := func(from, to int) []string { // newest first: review from-1 down to review to
				var out []string
				for i := from - 1; i >= to; i-- {
					out = append(out, fmt.Sprintf("review %02d", i))
				}
				return out
			}
			for _, tt := range []struct {
				query   string
				page    float64
				hasNext bool
				want    []string
			}{
				{"", 1, true, want(n, n-order.ReviewsPerPage)},
				{"?page=1", 1, true, want(n, n-order.ReviewsPerPage)},
				{"?page=0", 1, true, want(n, n-order.ReviewsPerPage)},
				{"?page=2", 2, false, want(n-order.ReviewsPerPage, 0)},
				{"?page=3", 3, false, nil},
			} {
				res := anon.Get(fmt.Sprintf("/comments/%d/%s", sku, tt.query))
				body := res.JSON(t)
				list, _ := body["comment_list"].([]any)
				if res.Status != http.StatusOK || body["code"] != 0.0 || list == nil {
					t.Fatalf("GET /comments/%d/%s: %d %s", sku, tt.query, res.Status, res.Body)
				}
				if body["page"] != tt.page || body["pages"] != 2.0 || body["total"] != float64(n) || body["has_next"] != tt.hasNext {
					t.Errorf("%s: page %v of %v, total %v, has_next %v; want page %v of 2, total %d, has_next %v",
						tt.query, body["page"], body["pages"], body["total"], body["has_next"], tt.page, n, tt.hasNext)
				}
				if got := comments(list); strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("%s: comments %q, want %q", tt.query, got, tt.want)
				}
			}
			for _, q := range []string{"?page=x", "?page=-1", "?page=1.5", "?page=99999999999"} {
				res := anon.Get(fmt.Sprintf("/comments/%d/%s", sku, q))
				if res.Status != http.StatusBadRequest || res.Code(t) != 400 || !strings.Contains(res.JSON(t)["errmsg"].(string), "page") {
					t.Errorf("GET /comments/%d/%s: %d %s, want 400 naming page", sku, q, res.Status, res.Body)
				}
			}

			next := fmt.Sprintf(`href="/detail/%d/?reviews=2#reviews" rel="next"`, sku)
			prev := fmt.Sprintf(`href="/detail/%d/?reviews=1#reviews" rel="prev"`, sku)
			for _, tt := range []struct {
				query      string
				want       []string
				next, prev bool
			}{
				{"", want(n, n-order.ReviewsPerPage), true, false},
				{"?reviews=2", want(n-order.ReviewsPerPage, 0), false, true},
				{"?reviews=abc", want(n, n-order.ReviewsPerPage), true, false},
				{"?reviews=-3", want(n, n-order.ReviewsPerPage), true, false},
				{"?reviews=99999999999999999999", want(n, n-order.ReviewsPerPage), true, false},
				{"?reviews=7", want(n-order.ReviewsPerPage, 0), false, true},
			} {
				res := anon.Get(fmt.Sprintf("/detail/%d/%s", sku, tt.query))
				if res.Status != http.StatusOK {
					t.Fatalf("GET /detail/%d/%s: %d", sku, tt.query, res.Status)
				}
				if got := testids(res.Body, "review-text"); strings.Join(got, "|") != strings.Join(tt.want, "|") {
					t.Errorf("detail%s shows reviews %q, want %q", tt.query, got, tt.want)
				}
				if got := strings.Contains(res.Body, next); got != tt.next {
					t.Errorf("detail%s has the next link: %v, want %v", tt.query, got, tt.next)
				}
				if got := strings.Contains(res.Body, prev); got != tt.prev {
					t.Errorf("detail%s has the previous link: %v, want %v", tt.query, got, tt.prev)
				}
				if got := testids(res.Body, "reviews-total"); len(got) != 1 || got[0] != fmt.Sprintf("(%d)", n) {
					t.Errorf("detail%s shows the total %q, want (%d)", tt.query, got, n)
				}
			}
		})
	}
}
