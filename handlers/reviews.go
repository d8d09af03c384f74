package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/templates"
)

// Reviews, as the Django shop has them: the page of an order's lines to
// review, the review of one line (order.ReviewLine), and a SKU's reviews.

// OrderReviewPage lists the lines of the buyer's order awaiting review
// that are not reviewed yet: /orders/comment/?order_id=. Someone else's
// or an unknown order is 404; an order in another status is a refusal
// (400 page, saying so).
func (h *Handlers) OrderReviewPage(c *gin.Context) {
	u := currentUser(c)
	id := c.Query("order_id")
	if id == "" || len(id) > models.MaxOrderIDLen {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	ctx := c.Request.Context()
	o, err := h.Orders.OrderOf(ctx, u.ID, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if o.Status != models.StatusUncomment {
		h.fail(c, reject("review.not_uncomment"))
		return
	}
	ids := make([]int64, len(o.Lines))
	for i, l := range o.Lines {
		ids[i] = l.SKUID
	}
	skus, err := h.Store.Catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		h.fail(c, err)
		return
	}
	bySKU := make(map[int64]models.SKU, len(skus))
	for _, k := range skus {
		bySKU[k.ID] = k
	}
	v := templates.ReviewPageView{
		Page:    h.page(c, templates.T(lang(c), "review.title")),
		OrderID: o.OrderID, MinLen: order.MinComment, MaxLen: order.MaxComment,
	}
	views := orderLineViews(o.Lines, bySKU)
	for i, l := range o.Lines {
		if l.IsCommented {
			v.Reviewed++
			continue
		}
		lv := views[i]
		name := lv.Name
		if name == "" {
			name = templates.T(lang(c), "order.gone")
		}
		v.Lines = append(v.Lines, templates.ReviewLineView{SKUID: lv.SKUID, Name: name, Image: lv.Image, Price: lv.Price, Count: lv.Count})
	}
	h.render(c, http.StatusOK, templates.ReviewPage(v))
}

// reviewBody is the JSON of POST /orders/comment/.
type reviewBody struct {
	OrderID     string   `json:"order_id"`
	SKUID       *flexInt `json:"sku_id"`
	Comment     string   `json:"comment"`
	Score       *flexInt `json:"score"`
	IsAnonymous bool     `json:"is_anonymous"`
}

// review checks the body: the comment is trimmed and must then be
// order.MinComment to order.MaxComment characters of visible text
// (models.CheckText, line breaks allowed), the score 1 to 5.
func (b reviewBody) review() (order.Review, error) {
	r := order.Review{OrderID: b.OrderID, Comment: strings.TrimSpace(b.Comment), Anonymous: b.IsAnonymous}
	switch {
	case b.OrderID == "":
		return r, badField("order_id", "err.field.missing")
	case len(b.OrderID) > models.MaxOrderIDLen:
		return r, badField("order_id", "review.order_id")
	case b.SKUID == nil:
		return r, badField("sku_id", "err.field.missing")
	case *b.SKUID < 1:
		return r, badField("sku_id", "err.field.type")
	case b.Score == nil:
		return r, badField("score", "err.field.missing")
	case *b.Score < order.MinScore || *b.Score > order.MaxScore:
		return r, badField("score", "review.score_range")
	}
	if p := models.CheckText(r.Comment, true); p != "" {
		return r, badField("comment", textKeys[p])
	}
	if n := utf8.RuneCountInString(r.Comment); n < order.MinComment || n > order.MaxComment {
		return r, badField("comment", "review.comment_len")
	}
	r.SKUID, r.Score = int64(*b.SKUID), int(*b.Score)
	return r, nil
}

// OrderReview records the buyer's review of one line of their order
// awaiting review: {order_id, sku_id, comment, score, is_anonymous} ->
// {code:0, errmsg, finished}, finished when it was the order's last line
// to review (the order is finished then). Malformed input is 400 naming
// the field; someone else's or an unknown order is 404; an order not
// awaiting review, a SKU not in the order, or a line reviewed already is
// a refusal (code 400). Nothing is written unless the answer is code 0.
func (h *Handlers) OrderReview(c *gin.Context) {
	asJSON(c)
	var body reviewBody
	if err := bindJSON(c, &body); err != nil {
		h.fail(c, err)
		return
	}
	r, err := body.review()
	if err != nil {
		h.fail(c, err)
		return
	}
	finished, err := h.Orders.ReviewLine(c.Request.Context(), currentUser(c).ID, r)
	if err != nil {
		h.fail(c, err)
		return
	}
	ok(c, gin.H{"errmsg": templates.T(lang(c), "review.thanks"), "finished": finished})
}

// SKUComments answers a page of a SKU's reviews, newest first:
// /comments/<sku_id>/?page=N -> {code:0, errmsg:"OK", comment_list:
// [{username, comment, score}], page, pages, total, has_next}, anonymous
// reviewers' names masked, order.ReviewsPerPage to a page. No page is the
// first; a page that is not a number is 400 naming it; one past the last
// has an empty list. An unknown SKU has none.
func (h *Handlers) SKUComments(c *gin.Context) {
	asJSON(c)
	id, err := pathID(c, "sku_id")
	if err != nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	n, err := pageParam(c)
	if err != nil {
		h.fail(c, err)
		return
	}
	page, err := h.Orders.SKUReviews(c.Request.Context(), id, n)
	if err != nil {
		h.fail(c, err)
		return
	}
	type comment struct {
		Username string `json:"username"`
		Comment  string `json:"comment"`
		Score    int    `json:"score"`
	}
	list := make([]comment, len(page.Reviews))
	for i, r := range page.Reviews {
		list[i] = comment{Username: r.Username, Comment: r.Comment, Score: r.Score}
	}
	ok(c, gin.H{"comment_list": list, "page": page.Page, "pages": page.Pages, "total": page.Total, "has_next": page.HasNext()})
}

// skuReviewPage is the page of a SKU's reviews its page shows: raw is
// ?reviews=, the page number; anything but a number from 1 shows the
// first page, a number past the last the last, so that a stale or edited
// link still shows the SKU.
func (h *Handlers) skuReviewPage(ctx context.Context, skuID int64, raw string) (templates.SKUReviewsView, error) {
	n, err := strconv.Atoi(strings.TrimSpace(raw))
	if err != nil || n < 1 {
		n = 1
	}
	page, err := h.Orders.SKUReviews(ctx, skuID, n)
	if err != nil {
		return templates.SKUReviewsView{}, err
	}
	if page.Page > page.Pages {
		if page, err = h.Orders.SKUReviews(ctx, skuID, page.Pages); err != nil {
			return templates.SKUReviewsView{}, err
		}
	}
	v := templates.SKUReviewsView{Total: page.Total}
	for _, r := range page.Reviews {
		v.Reviews = append(v.Reviews, templates.ReviewView{Username: r.Username, Comment: r.Comment, Score: r.Score})
	}
	v.Pager = templates.NewPager(page.Page, page.Pages, func(n int) string {
		return fmt.Sprintf("/detail/%d/?reviews=%d#reviews", skuID, n)
	})
	return v, nil
}
