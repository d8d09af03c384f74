package order

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"gorm.io/gorm"

	"github.com/meiduo/shop/models"
)

// Reviews, as the Django shop has them: the buyer of an order awaiting
// review (status 4) reviews each of its lines once, with a comment, a
// score and whether to stay anonymous; the review is kept on the line
// (tb_order_goods), and the last line's review finishes the order (4 → 5).

// WhyReviewed is tb_order_event's why for the review that finished an
// order.
const WhyReviewed = "reviewed"

// Bounds of a review.
const (
	MinComment = 5   // characters, after trimming
	MaxComment = 500 // characters, after trimming
	MinScore   = 1
	MaxScore   = 5
	// ReviewsPerPage is how many reviews a page of SKUReviews holds,
	// newest first.
	ReviewsPerPage = 10
)

var (
	// ErrReviewed is a line that has its review already.
	ErrReviewed = errors.New("order line reviewed already")
	// ErrNoLine is a SKU that is not a line of the order.
	ErrNoLine = errors.New("no such line in the order")
)

// Review is the buyer's review of one line of an order.
type Review struct {
	OrderID   string
	SKUID     int64
	Comment   string // trimmed, MinComment to MaxComment characters
	Score     int    // MinScore to MaxScore
	Anonymous bool   // the SKU page shows a masked username
}

// ReviewLine records the review of one line of the buyer uid's order, in
// one transaction: the line is written only while it is not reviewed yet
// (a conditional write, so of any number of concurrent reviews of a line
// exactly one is recorded), the SKU's and the SPU's review counts go up,
// and when it was the order's last unreviewed line the order moves from
// awaiting review to finished with its tb_order_event. It reports whether
// the order is finished now.
//
// Returns models.ErrNotFound for an unknown order or someone else's,
// models.ErrWrongStatus when the order is not awaiting review, ErrNoLine,
// ErrReviewed, and models.ErrInvalid for a comment or score out of bounds
// (callers check them first); nothing is written then.
func (o *Orders) ReviewLine(ctx context.Context, uid int64, r Review) (finished bool, err error) {
	if n := utf8.RuneCountInString(r.Comment); n < MinComment || n > MaxComment || strings.TrimSpace(r.Comment) != r.Comment {
		return false, fmt.Errorf("review of order %q: %w: comment of %d characters", r.OrderID, models.ErrInvalid, n)
	}
	if r.Score < MinScore || r.Score > MaxScore {
		return false, fmt.Errorf("review of order %q: %w: score %d", r.OrderID, models.ErrInvalid, r.Score)
	}
	err = o.db.Transact(ctx, func(tx *models.Tx) error {
		var err error
		finished, err = reviewIn(tx, uid, r)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("review sku %d of order %q: %w", r.SKUID, r.OrderID, err)
	}
	return finished, nil
}

// reviewIn is ReviewLine inside tx. The order row is locked first, as
// every transition locks it, so two reviews of the last two lines cannot
// both miss the other and leave the order unfinished.
func reviewIn(tx *models.Tx, uid int64, r Review) (bool, error) {
	st, err := lockOrder(tx, r.OrderID)
	if err != nil {
		return false, err
	}
	if st.UserID != uid {
		return false, models.ErrNotFound
	}
	if st.Status != models.StatusUncomment {
		return false, fmt.Errorf("%w (status %d)", models.ErrWrongStatus, st.Status)
	}
	res := tx.Exec(`UPDATE tb_order_goods SET comment = ?, score = ?, is_anonymous = ?, is_commented = ?, comment_time = ?, update_time = ?
		WHERE order_id = ? AND sku_id = ? AND is_commented = ?`,
		r.Comment, r.Score, r.Anonymous, true, tx.Now, tx.Now, r.OrderID, r.SKUID, false)
	if res.Error != nil {
		return false, fmt.Errorf("write the review: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		var lines int64
		if err := tx.Model(&models.OrderLine{}).Where("order_id = ? AND sku_id = ?", r.OrderID, r.SKUID).Count(&lines).Error; err != nil {
			return false, fmt.Errorf("look for the line: %w", err)
		}
		if lines == 0 {
			return false, ErrNoLine
		}
		return false, ErrReviewed
	}
	if err := tx.Exec("UPDATE tb_sku SET comments = comments + 1 WHERE id = ?", r.SKUID).Error; err != nil {
		return false, fmt.Errorf("count the review on sku %d: %w", r.SKUID, err)
	}
	if err := tx.Exec("UPDATE tb_spu SET comments = comments + 1 WHERE id = (SELECT spu_id FROM tb_sku WHERE id = ?)", r.SKUID).Error; err != nil {
		return false, fmt.Errorf("count the review on the spu of sku %d: %w", r.SKUID, err)
	}
	var left int64
	if err := tx.Model(&models.OrderLine{}).Where("order_id = ? AND is_commented = ?", r.OrderID, false).Count(&left).Error; err != nil {
		return false, fmt.Errorf("count lines to review: %w", err)
	}
	if left > 0 {
		return false, nil
	}
	if _, err := move(tx, r.OrderID, uid, models.StatusFinished, &uid, WhyReviewed, models.StatusUncomment); err != nil {
		return false, err
	}
	return true, nil
}

// SKUReview is one review as the SKU page shows it.
type SKUReview struct {
	Username string // masked (MaskName) when the reviewer chose anonymity
	Comment  string
	Score    int
}

// ReviewPage is one page of a SKU's reviews, newest first.
type ReviewPage struct {
	Reviews []SKUReview
	Page    int   // 1-based
	Pages   int   // at least 1, even with no review
	Total   int64 // reviews of the SKU
}

// HasNext reports whether a page follows this one.
func (p ReviewPage) HasNext() bool { return p.Page < p.Pages }

// SKUReviews returns page `page` (1-based; below 1 is 1) of a SKU's
// reviews, ReviewsPerPage to a page, newest first. A page past the last
// holds no review (Page and Pages still say where it is); an unknown SKU
// has none.
func (o *Orders) SKUReviews(ctx context.Context, skuID int64, page int) (ReviewPage, error) {
	page = max(page, 1)
	q := func() *gorm.DB {
		return o.db.Gorm().WithContext(ctx).Table("tb_order_goods g").Where("g.sku_id = ? AND g.is_commented = ?", skuID, true)
	}
	out := ReviewPage{Page: page}
	if err := q().Count(&out.Total).Error; err != nil {
		return ReviewPage{}, fmt.Errorf("count reviews of sku %d: %w", skuID, err)
	}
	out.Pages = max(1, int((out.Total+ReviewsPerPage-1)/ReviewsPerPage))
	if page > out.Pages {
		return out, nil
	}
	var rows []struct {
		Username    string
		Comment     string
		Score       int
		IsAnonymous bool
	}
	err := q().Select("u.username AS username, g.comment AS comment, g.score AS score, g.is_anonymous AS is_anonymous").
		Joins("JOIN tb_order_info o ON o.order_id = g.order_id").
		Joins("JOIN tb_users u ON u.id = o.user_id").
		Order("g.comment_time DESC, g.id DESC").Offset((page - 1) * ReviewsPerPage).Limit(ReviewsPerPage).Scan(&rows).Error
	if err != nil {
		return ReviewPage{}, fmt.Errorf("reviews of sku %d, page %d: %w", skuID, page, err)
	}
	out.Reviews = make([]SKUReview, len(rows))
	for i, r := range rows {
		name := r.Username
		if r.IsAnonymous {
			name = MaskName(name)
		}
		out.Reviews[i] = SKUReview{Username: name, Comment: r.Comment, Score: r.Score}
	}
	return out, nil
}

// MaskName hides a username as the Django shop does for an anonymous
// review: its first and last characters around "***".
func MaskName(name string) string {
	r := []rune(name)
	switch len(r) {
	case 0:
		return "***"
	case 1:
		return string(r) + "***"
	}
	return string(r[0]) + "***" + string(r[len(r)-1])
}
