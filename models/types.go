package models

import (
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
	Place      string    `json:"place"`
	Mobile     string    `json:"mobile"`
	Tel        string    `json:"tel"`
	Email      string    `json:"email"`
	IsDeleted  bool      `json:"-"`
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
	CategoryID int64
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
}

func (OrderLine) TableName() string { return "tb_order_goods" }
