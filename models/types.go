package models

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shopspring/decimal"
)

// User is a shopper or a staff member (tb_users).
type User struct {
	ID               int64 `gorm:"primaryKey"`
	Password         string
	LastLogin        *time.Time
	IsSuperuser      bool
	Username         string
	Email            string
	IsStaff          bool
	IsActive         bool
	DateJoined       time.Time
	Mobile           string
	DefaultAddressID *int64
	// SessionGeneration moves on whenever the user's sessions must end
	// (logout, a password change, deactivation); a session opened under
	// an older generation is refused.
	SessionGeneration int64
}

func (User) TableName() string { return "tb_users" }

// Address is an entry in a user's address book (tb_address). Deleting one
// only marks it, so old orders keep pointing at it.
type Address struct {
	ID         int64     `gorm:"primaryKey" json:"id"`
	CreateTime time.Time `json:"-"`
	UpdateTime time.Time `json:"-"`
	UserID     int64     `json:"-"`
	Title      string    `json:"title"`
	Receiver   string    `json:"receiver"`
	Province   string    `json:"province"`
	City       string    `json:"city"`
	District   string    `json:"district"`
	// The regions the address was picked from (tb_areas); nil on
	// addresses from before regions existed, or typed by an API client.
	ProvinceID *int64 `json:"province_id"`
	CityID     *int64 `json:"city_id"`
	DistrictID *int64 `json:"district_id"`
	Place      string `json:"place"`
	Mobile     string `json:"mobile"`
	Tel        string `json:"tel"`
	Email      string `json:"email"`
	IsDeleted  bool   `json:"-"`
}

func (Address) TableName() string { return "tb_address" }

// Category is a goods category (tb_goods_category); ParentID nil is a top level.
type Category struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	Name       string
	ParentID   *int64
}

func (Category) TableName() string { return "tb_goods_category" }

// SPU is a standard product unit (tb_spu): the product a SKU is a variant of.
type SPU struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	Name       string
	Sales      int
	Comments   int
	CategoryID int64  // the third level, Django's category3
	BrandID    *int64 // nil: no brand
	DescDetail string
}

func (SPU) TableName() string { return "tb_spu" }

// SKU is a stock keeping unit (tb_sku): what a shopper buys.
type SKU struct {
	ID           int64 `gorm:"primaryKey"`
	CreateTime   time.Time
	UpdateTime   time.Time
	Name         string
	Caption      string
	SPUID        int64 `gorm:"column:spu_id"`
	CategoryID   int64
	Price        decimal.Decimal
	CostPrice    decimal.Decimal
	MarketPrice  decimal.Decimal
	Stock        int
	Sales        int
	Comments     int
	IsLaunched   bool
	DefaultImage string
	// LowStockThreshold: the SKU is low on stock at or below it. The
	// default tag lets a Create that leaves it 0 take the column's default.
	LowStockThreshold int `gorm:"default:5"`
}

func (SKU) TableName() string { return "tb_sku" }

// Order status values, as in the Django shop.
const (
	StatusUnpaid     = 1
	StatusUnsend     = 2
	StatusUnreceived = 3
	StatusUncomment  = 4
	StatusFinished   = 5
	StatusCanceled   = 6
)

// Pay methods.
const (
	PayCash   = 1 // cash on delivery: the order starts at StatusUnsend
	PayOnline = 2 // the order starts at StatusUnpaid
)

// Freight is what every order pays for delivery.
var Freight = decimal.New(1000, -2)

// MaxAmount is the largest total that numeric(10,2) holds.
var MaxAmount = decimal.New(1e10-1, -2)

// NewOrderID makes an order id: the time to the second, the user id on nine
// digits and random digits, so that one user ordering many times in one
// second gets distinct ids. The order commit uses 6 random digits and the
// flash sale 8, so the two kinds of id never collide; the primary key is
// the final guard.
func NewOrderID(uid int64, now time.Time, random int) string {
	n := 1
	for range random {
		n *= 10
	}
	return fmt.Sprintf("%s%09d%0*d", now.UTC().Format("20060102150405"), uid, random, rand.IntN(n))
}

// MaxOrderIDLen is the longest order id or commit token (varchar(64)).
const MaxOrderIDLen = 64

// Bill is a selection priced at today's prices, as the settlement page
// shows it and the order commit charges it.
type Bill struct {
	Lines      []BillLine // ascending SKU id
	TotalCount int
	Goods      decimal.Decimal // the lines' amounts
	Freight    decimal.Decimal
	Payable    decimal.Decimal // goods plus freight
}

// BillLine is one SKU of a Bill.
type BillLine struct {
	SKU    SKU
	Count  int
	Amount decimal.Decimal // count × price
}

// OrderRow is tb_order_info as the order commit and the flash sale write
// it: Order with the commit token, without the lines.
type OrderRow struct {
	OrderID     string `gorm:"primaryKey"`
	CreateTime  time.Time
	UpdateTime  time.Time
	UserID      int64
	AddressID   int64
	TotalCount  int
	TotalAmount decimal.Decimal
	Freight     decimal.Decimal
	PayMethod   int
	Status      int
	CommitToken *string
}

func (OrderRow) TableName() string { return "tb_order_info" }

// Order is the row as an Order with lines.
func (r OrderRow) Order(lines []OrderLine) *Order {
	return &Order{
		OrderID: r.OrderID, CreateTime: r.CreateTime, UpdateTime: r.UpdateTime,
		UserID: r.UserID, AddressID: r.AddressID, TotalCount: r.TotalCount,
		TotalAmount: r.TotalAmount, Freight: r.Freight, PayMethod: r.PayMethod,
		Status: r.Status, Lines: lines,
	}
}

// Order is an order header (tb_order_info).
type Order struct {
	OrderID     string `gorm:"primaryKey"`
	CreateTime  time.Time
	UpdateTime  time.Time
	UserID      int64
	AddressID   int64
	TotalCount  int
	TotalAmount decimal.Decimal // freight included
	Freight     decimal.Decimal
	PayMethod   int
	Status      int
	Lines       []OrderLine `gorm:"foreignKey:OrderID;references:OrderID"`
}

func (Order) TableName() string { return "tb_order_info" }

// OrderLine is one SKU in an order (tb_order_goods), at the price paid.
type OrderLine struct {
	ID          int64 `gorm:"primaryKey"`
	CreateTime  time.Time
	UpdateTime  time.Time
	OrderID     string
	SKUID       int64 `gorm:"column:sku_id"`
	Count       int
	Price       decimal.Decimal
	Comment     string
	Score       int
	IsAnonymous bool
	IsCommented bool
	CommentTime *time.Time // when it was reviewed; nil until then
}

func (OrderLine) TableName() string { return "tb_order_goods" }
