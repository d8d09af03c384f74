package testkit

import (
	"context"
	"fmt"
	"time"

	"github.com/meiduo/shop/models"
)

// Buyer is a user with a delivery address, made by CreateBuyers.
type Buyer struct {
	UserID    int64
	Username  string
	AddressID int64
}

// CreateBuyers adds n active shoppers named <label>_<i>, all with the
// given password (hashed once) and one address each, in a few bulk
// inserts: the quick way to get the crowd of a flash-sale test or load
// run. Returns ErrInvalid for n < 1 or an empty label or password, and
// ErrDuplicate if a name is taken.
func CreateBuyers(ctx context.Context, st *models.Store, label, password string, n int) ([]Buyer, error) {
	s := on(st)
	if n < 1 || label == "" || password == "" {
		return nil, fmt.Errorf("create buyers: %w: n=%d", models.ErrInvalid, n)
	}
	hash, err := st.Accounts.HashPassword(ctx, password)
	if err != nil {
		return nil, fmt.Errorf("create buyers: %w", err)
	}
	now := time.Now().UTC().Truncate(time.Microsecond)
	db := s.db.WithContext(ctx)
	// Mobiles "00" and nine digits, after the highest such one: never a
	// shopper's number (those start with 1), and unique.
	var top *string
	if err := db.Model(&models.User{}).Where("mobile LIKE ?", "00%").Select("MAX(mobile)").Scan(&top).Error; err != nil {
		return nil, fmt.Errorf("create buyers: %w", err)
	}
	base := 0
	if top != nil {
		fmt.Sscanf(*top, "%d", &base)
	}
	users := make([]models.User, n)
	for i := range users {
		users[i] = models.User{
			Username: fmt.Sprintf("%s_%d", label, i), Password: hash, IsActive: true, DateJoined: now,
			Mobile: fmt.Sprintf("00%09d", base+1+i),
		}
	}
	if err := db.CreateInBatches(users, 500).Error; err != nil {
		return nil, fmt.Errorf("create buyers: %w", models.Translate(err))
	}
	addrs := make([]models.Address, n)
	for i, u := range users {
		addrs[i] = models.Address{CreateTime: now, UpdateTime: now, UserID: u.ID, Title: "家", Receiver: "秒杀买家",
			Province: "北京市", City: "北京市", District: "海淀区", Place: "中关村大街 1 号", Mobile: "13800138000"}
	}
	if err := db.CreateInBatches(addrs, 500).Error; err != nil {
		return nil, fmt.Errorf("create buyers' addresses: %w", err)
	}
	out := make([]Buyer, n)
	for i := range users {
		out[i] = Buyer{UserID: users[i].ID, Username: users[i].Username, AddressID: addrs[i].ID}
	}
	return out, nil
}
