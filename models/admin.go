package models

import (
	"context"
	"fmt"
	"path"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/shopspring/decimal"
	"gorm.io/gorm"

	"github.com/meiduo/shop/migrations"
)

// Admin is what staff change and watch: SKUs, SPUs, stock adjustments,
// the dashboard and the order list. An order's transitions (ship,
// complete, cancel) are the order package's.
type Admin struct {
	handle
	catalog *Catalog
}

// AdminPageSize is how many rows one admin list page holds.
const AdminPageSize = 20

// Limits of the admin forms, as the columns hold them.
const (
	MaxNameLen    = 50  // tb_sku.name, tb_spu.name
	MaxCaptionLen = 100 // tb_sku.caption
	MaxImageLen   = 200 // tb_sku.default_image
	MaxNoteLen    = 200 // tb_stock_ledger.note
	MaxStock      = 1_000_000_000
)

// LocalImage reports whether an image path is this site's own: a clean
// path under /static/ or /media/, with no control character, backslash,
// percent sign, "." or ".." segment, query or fragment, so that no browser
// reads it as another host ("/\\host/..." is not local).
func LocalImage(p string) bool {
	if !strings.HasPrefix(p, "/static/") && !strings.HasPrefix(p, "/media/") || len(p) > MaxImageLen {
		return false
	}
	for _, r := range p {
		if r <= ' ' || r == 0x7f || r == '\\' || r == '%' || r == '?' || r == '#' || unicode.IsControl(r) || bidiControl(r) {
			return false
		}
	}
	return path.Clean(p) == p && !strings.HasSuffix(p, "/")
}

// SKUInput is what staff enter to create or edit a SKU. Stock is only read
// when creating: afterwards stock changes only through AdjustStock.
type SKUInput struct {
	Name              string
	Caption           string
	SPUID             int64
	CategoryID        int64
	Price             decimal.Decimal
	Image             string // a path under /static/ or /media/ (LocalImage)
	LowStockThreshold int
	Stock             int
	Launched          bool
}

// check returns ErrInvalid naming the first bad field.
func (in SKUInput) check() error {
	switch {
	case strings.TrimSpace(in.Name) == "" || utf8.RuneCountInString(in.Name) > MaxNameLen:
		return fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalid, MaxNameLen)
	case utf8.RuneCountInString(in.Caption) > MaxCaptionLen:
		return fmt.Errorf("%w: caption longer than %d characters", ErrInvalid, MaxCaptionLen)
	case in.Price.IsNegative() || in.Price.GreaterThan(MaxAmount) || !in.Price.Equal(in.Price.Round(2)):
		return fmt.Errorf("%w: price %s", ErrInvalid, in.Price)
	case len(in.Image) > MaxImageLen:
		return fmt.Errorf("%w: image longer than %d characters", ErrInvalid, MaxImageLen)
	case in.Image != "" && !LocalImage(in.Image):
		return fmt.Errorf("%w: image %q is not a path under /static/ or /media/", ErrInvalid, in.Image)
	case in.LowStockThreshold < 0 || in.LowStockThreshold > MaxStock:
		return fmt.Errorf("%w: low-stock threshold %d", ErrInvalid, in.LowStockThreshold)
	case in.Stock < 0 || in.Stock > MaxStock:
		return fmt.Errorf("%w: stock %d", ErrInvalid, in.Stock)
	}
	return nil
}

// CreateSKU adds a SKU with its first stock, recorded as its ReasonInitial
// ledger entry in the same transaction. Returns ErrInvalid for a bad field
// and ErrNotFound if the SPU or the category does not exist.
func (s *Admin) CreateSKU(ctx context.Context, in SKUInput) (*SKU, error) {
	if err := in.check(); err != nil {
		return nil, fmt.Errorf("create sku: %w", err)
	}
	now := s.db.NowFunc()
	k := SKU{CreateTime: now, UpdateTime: now, Name: strings.TrimSpace(in.Name), Caption: in.Caption,
		SPUID: in.SPUID, CategoryID: in.CategoryID, Price: in.Price, CostPrice: in.Price, MarketPrice: in.Price,
		Stock: in.Stock, IsLaunched: in.Launched, DefaultImage: in.Image, LowStockThreshold: in.LowStockThreshold}
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		if err := s.parentsExist(tx.DB, in.SPUID, in.CategoryID); err != nil {
			return err
		}
		if err := tx.Create(&k).Error; err != nil {
			return err
		}
		// A zero threshold is a real choice, which Create leaves to the
		// column's default.
		if in.LowStockThreshold == 0 {
			if err := tx.Model(&k).Update("low_stock_threshold", 0).Error; err != nil {
				return err
			}
		}
		return RecordInitialStock(tx, []SKU{k})
	})
	if err != nil {
		return nil, fmt.Errorf("create sku %q: %w", in.Name, translate(err))
	}
	return &k, nil
}

// UpdateSKU changes a SKU's name, caption, SPU, category, price, image,
// threshold and whether it is on sale; never its stock. Returns ErrInvalid
// for a bad field and ErrNotFound if the SKU, the SPU or the category does
// not exist.
func (s *Admin) UpdateSKU(ctx context.Context, id int64, in SKUInput) error {
	if err := in.check(); err != nil {
		return fmt.Errorf("update sku %d: %w", id, err)
	}
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		if err := s.parentsExist(tx.DB, in.SPUID, in.CategoryID); err != nil {
			return err
		}
		res := tx.Model(&SKU{}).Where("id = ?", id).Updates(map[string]any{
			"name": strings.TrimSpace(in.Name), "caption": in.Caption, "spu_id": in.SPUID, "category_id": in.CategoryID,
			"price": in.Price, "default_image": in.Image, "low_stock_threshold": in.LowStockThreshold,
			"is_launched": in.Launched, "update_time": s.db.NowFunc(),
		})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("update sku %d: %w", id, translate(err))
	}
	return nil
}

func (s *Admin) parentsExist(tx *gorm.DB, spu, category int64) error {
	var n int64
	if err := tx.Model(&SPU{}).Where("id = ?", spu).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("spu %d: %w", spu, ErrNotFound)
	}
	if err := tx.Model(&Category{}).Where("id = ?", category).Count(&n).Error; err != nil {
		return err
	}
	if n == 0 {
		return fmt.Errorf("category %d: %w", category, ErrNotFound)
	}
	return nil
}

// SetLaunched puts a SKU on sale or withdraws it. Orders already placed
// keep it. Returns ErrNotFound.
func (s *Admin) SetLaunched(ctx context.Context, id int64, launched bool) error {
	if err := s.setSKU(ctx, id, map[string]any{"is_launched": launched}); err != nil {
		return fmt.Errorf("set sku %d launched=%t: %w", id, launched, err)
	}
	return nil
}

// setSKU sets columns of a SKU, and its update_time. Returns ErrNotFound.
func (s *Admin) setSKU(ctx context.Context, id int64, set map[string]any) error {
	return s.pool.Transact(ctx, func(tx *Tx) error {
		set["update_time"] = tx.Now
		res := tx.Model(&SKU{}).Where("id = ?", id).Updates(set)
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
}

// SetSKUImage points a SKU's default_image at path (an uploaded file's
// URL path, say). Returns ErrInvalid for a path longer than MaxImageLen,
// ErrNotFound.
func (s *Admin) SetSKUImage(ctx context.Context, id int64, path string) error {
	if len(path) > MaxImageLen {
		return fmt.Errorf("sku %d: %w: image longer than %d characters", id, ErrInvalid, MaxImageLen)
	}
	if err := s.setSKU(ctx, id, map[string]any{"default_image": path}); err != nil {
		return fmt.Errorf("set the image of sku %d: %w", id, err)
	}
	return nil
}

// SetLowStockThreshold sets the stock at or below which a SKU is low.
// Returns ErrInvalid for a negative threshold, ErrNotFound.
func (s *Admin) SetLowStockThreshold(ctx context.Context, id int64, threshold int) error {
	if threshold < 0 || threshold > MaxStock {
		return fmt.Errorf("sku %d: %w: low-stock threshold %d", id, ErrInvalid, threshold)
	}
	if err := s.setSKU(ctx, id, map[string]any{"low_stock_threshold": threshold}); err != nil {
		return fmt.Errorf("set the low-stock threshold of sku %d: %w", id, err)
	}
	return nil
}

// Adjustment is a change of stock entered by staff: a delta, never a new
// value, so that it cannot overwrite a sale made at the same moment.
type Adjustment struct {
	SKUID   int64
	Delta   int    // not 0
	StaffID int64  // who
	Note    string // why, 1 to MaxNoteLen characters
}

// AdjustStock adds a.Delta to the SKU's stock in one conditional
// statement (stock = stock + delta where the result stays >= 0), and
// records a ReasonAdjust ledger entry with the stock after it in the same
// transaction. Sales made at the same moment are never lost: they change
// the stock by their own deltas, or (the optimistic commit) see that it
// moved and read it again.
//
// A try after a COMMIT that lost its answer first looks for the entry that
// COMMIT may have written (the same SKU, staff member, delta and note since
// the call began), so the stock moves once.
//
// Returns the ledger entry; ErrInvalid for a zero delta or a bad note,
// ErrNotFound for an unknown SKU, and a *StockError (ErrOutOfStock) when a
// negative delta is more than the stock left.
func (s *Admin) AdjustStock(ctx context.Context, a Adjustment) (*LedgerEntry, error) {
	note := strings.TrimSpace(a.Note)
	switch {
	case a.Delta == 0 || a.Delta > MaxStock || a.Delta < -MaxStock:
		return nil, fmt.Errorf("adjust sku %d: %w: delta %d", a.SKUID, ErrInvalid, a.Delta)
	case note == "" || utf8.RuneCountInString(note) > MaxNoteLen:
		return nil, fmt.Errorf("adjust sku %d: %w: the reason must be 1 to %d characters", a.SKUID, ErrInvalid, MaxNoteLen)
	}
	var e LedgerEntry
	since := time.Now().UTC().Truncate(time.Microsecond) // no try's tx.Now is earlier
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		if tx.Unsure {
			// The last try's COMMIT lost its answer: it may have made this
			// adjustment, whose ledger entry then says so. The SKU's row
			// lock first: a COMMIT still on its way holds it until it lands.
			if err := tx.Exec(lockSKU(tx), a.SKUID).Error; err != nil {
				return err
			}
			var made []LedgerEntry
			err := tx.Where("sku_id = ? AND reason = ? AND user_id = ? AND delta = ? AND note = ? AND create_time >= ?",
				a.SKUID, ReasonAdjust, a.StaffID, a.Delta, note, since).Order("id DESC").Limit(1).Find(&made).Error
			if err != nil || len(made) == 1 {
				if len(made) == 1 {
					e = made[0]
				}
				return err
			}
		}
		after, err := addStock(tx, a.SKUID, a.Delta, "", nil, true)
		if err != nil {
			return err
		}
		staff := a.StaffID
		e = LedgerEntry{CreateTime: tx.Now, SKUID: a.SKUID, Delta: a.Delta,
			StockAfter: after, Reason: ReasonAdjust, UserID: &staff, Note: note}
		return RecordStock(tx, e)
	})
	if err != nil {
		return nil, fmt.Errorf("adjust the stock of sku %d by %d: %w", a.SKUID, a.Delta, err)
	}
	return &e, nil
}

// SPUInput is what staff enter to create or edit an SPU.
type SPUInput struct {
	Name       string
	CategoryID int64
	Desc       string
}

// CreateSPU adds a product. Returns ErrInvalid for a bad name, ErrNotFound
// for an unknown category.
func (s *Admin) CreateSPU(ctx context.Context, in SPUInput) (*SPU, error) {
	if err := in.check(); err != nil {
		return nil, fmt.Errorf("create spu: %w", err)
	}
	now := s.db.NowFunc()
	p := SPU{CreateTime: now, UpdateTime: now, Name: strings.TrimSpace(in.Name), CategoryID: in.CategoryID, DescDetail: in.Desc}
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		if _, err := s.categoryIn(tx.DB, in.CategoryID); err != nil {
			return err
		}
		return tx.Create(&p).Error
	})
	if err != nil {
		return nil, fmt.Errorf("create spu %q: %w", in.Name, translate(err))
	}
	return &p, nil
}

// UpdateSPU changes a product's name, category and description. Returns
// ErrInvalid, ErrNotFound.
func (s *Admin) UpdateSPU(ctx context.Context, id int64, in SPUInput) error {
	if err := in.check(); err != nil {
		return fmt.Errorf("update spu %d: %w", id, err)
	}
	err := s.pool.Transact(ctx, func(tx *Tx) error {
		if _, err := s.categoryIn(tx.DB, in.CategoryID); err != nil {
			return err
		}
		res := tx.Model(&SPU{}).Where("id = ?", id).Updates(map[string]any{
			"name": strings.TrimSpace(in.Name), "category_id": in.CategoryID, "desc_detail": in.Desc, "update_time": s.db.NowFunc()})
		if res.Error == nil && res.RowsAffected == 0 {
			return ErrNotFound
		}
		return res.Error
	})
	if err != nil {
		return fmt.Errorf("update spu %d: %w", id, translate(err))
	}
	return nil
}

func (in SPUInput) check() error {
	if strings.TrimSpace(in.Name) == "" || utf8.RuneCountInString(in.Name) > MaxNameLen {
		return fmt.Errorf("%w: name must be 1 to %d characters", ErrInvalid, MaxNameLen)
	}
	return nil
}

func (s *Admin) categoryIn(tx *gorm.DB, id int64) (*Category, error) {
	var c Category
	if err := tx.First(&c, id).Error; err != nil {
		return nil, fmt.Errorf("category %d: %w", id, translate(err))
	}
	return &c, nil
}

// SPUByID returns one product. Returns ErrNotFound.
func (s *Admin) SPUByID(ctx context.Context, id int64) (*SPU, error) {
	var p SPU
	if err := s.db.WithContext(ctx).First(&p, id).Error; err != nil {
		return nil, fmt.Errorf("spu %d: %w", id, translate(err))
	}
	return &p, nil
}

// AllCategories returns every category, top levels and children, by id.
func (s *Admin) AllCategories(ctx context.Context) ([]Category, error) {
	var out []Category
	if err := s.db.WithContext(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	return out, nil
}

// AllSPUs returns every product by id, for the SKU form's choice.
func (s *Admin) AllSPUs(ctx context.Context) ([]SPU, error) {
	var out []SPU
	if err := s.db.WithContext(ctx).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("spus: %w", err)
	}
	return out, nil
}

// AdminPage is where a paged admin list stands.
type AdminPage struct {
	Number int   // 1-based
	Pages  int   // at least 1
	Total  int64 // rows over all pages
}

// pageOf counts q's rows and checks that number is a page. Returns
// ErrNotFound for a page past the last.
func pageOf(q *gorm.DB, number int) (AdminPage, error) {
	var total int64
	if err := q.Session(&gorm.Session{}).Count(&total).Error; err != nil {
		return AdminPage{}, err
	}
	p := AdminPage{Number: number, Pages: max(1, int((total+AdminPageSize-1)/AdminPageSize)), Total: total}
	if number < 1 || number > p.Pages {
		return AdminPage{}, fmt.Errorf("page %d of %d: %w", number, p.Pages, ErrNotFound)
	}
	return p, nil
}

func (p AdminPage) offset() int { return (p.Number - 1) * AdminPageSize }

// SKUFilter selects SKUs for the admin list. Zero fields select all.
type SKUFilter struct {
	Query      string // in the name or caption
	CategoryID int64
	SPUID      int64
	Launched   *bool
	LowStock   bool // only SKUs at or below their threshold
}

// AdminSKUs returns one page of SKUs, launched or not, by id. Returns
// ErrInvalid for a query over MaxQueryLen, ErrNotFound for a page past the
// last.
func (s *Admin) AdminSKUs(ctx context.Context, f SKUFilter, number int) ([]SKU, AdminPage, error) {
	q := s.db.WithContext(ctx).Model(&SKU{})
	if t := strings.TrimSpace(f.Query); t != "" {
		if utf8.RuneCountInString(t) > MaxQueryLen {
			return nil, AdminPage{}, fmt.Errorf("%w: the query must be at most %d characters", ErrInvalid, MaxQueryLen)
		}
		like := "%" + escapeLike(strings.ToLower(t)) + "%"
		q = q.Where("(LOWER(name) LIKE ? ESCAPE '!' OR LOWER(caption) LIKE ? ESCAPE '!')", like, like)
	}
	if f.CategoryID > 0 {
		q = q.Where("category_id = ?", f.CategoryID)
	}
	if f.SPUID > 0 {
		q = q.Where("spu_id = ?", f.SPUID)
	}
	if f.Launched != nil {
		q = q.Where("is_launched = ?", *f.Launched)
	}
	if f.LowStock {
		q = q.Where("stock <= low_stock_threshold")
	}
	pg, err := pageOf(q, number)
	if err != nil {
		return nil, AdminPage{}, fmt.Errorf("admin skus: %w", err)
	}
	var out []SKU
	order := "id"
	if f.LowStock {
		order = "stock, id"
	}
	if err := q.Order(order).Offset(pg.offset()).Limit(AdminPageSize).Find(&out).Error; err != nil {
		return nil, AdminPage{}, fmt.Errorf("admin skus: %w", err)
	}
	return out, pg, nil
}

// SPURow is an SPU in the admin list, with how many SKUs it has.
type SPURow struct {
	SPU
	SKUCount int
}

// AdminSPUs returns one page of products by id, those whose name holds
// query (all when empty), of one category when categoryID > 0. Returns
// ErrInvalid for a query over MaxQueryLen, ErrNotFound for a page past
// the last.
func (s *Admin) AdminSPUs(ctx context.Context, query string, categoryID int64, number int) ([]SPURow, AdminPage, error) {
	q := s.db.WithContext(ctx).Model(&SPU{})
	if t := strings.TrimSpace(query); t != "" {
		if utf8.RuneCountInString(t) > MaxQueryLen {
			return nil, AdminPage{}, fmt.Errorf("%w: the query must be at most %d characters", ErrInvalid, MaxQueryLen)
		}
		q = q.Where("LOWER(name) LIKE ? ESCAPE '!'", "%"+escapeLike(strings.ToLower(t))+"%")
	}
	if categoryID > 0 {
		q = q.Where("category_id = ?", categoryID)
	}
	pg, err := pageOf(q, number)
	if err != nil {
		return nil, AdminPage{}, fmt.Errorf("admin spus: %w", err)
	}
	var out []SPURow
	err = q.Select("tb_spu.*, (SELECT COUNT(*) FROM tb_sku WHERE tb_sku.spu_id = tb_spu.id) AS sku_count").
		Order("id").Offset(pg.offset()).Limit(AdminPageSize).Scan(&out).Error
	if err != nil {
		return nil, AdminPage{}, fmt.Errorf("admin spus: %w", err)
	}
	return out, pg, nil
}

// Dashboard is the admin home's figures.
type Dashboard struct {
	Orders   int64            // orders placed since the start of the day, canceled ones included
	Canceled int64            // of those, canceled
	Revenue  decimal.Decimal  // total_amount of the others, freight included
	Units    int64            // units in the others
	LowStock []SKU            // the SKUs at or below their threshold, lowest stock first (at most 10)
	LowCount int64            // how many SKUs are low
	Recent   []Order          // the 10 newest orders
	Buyers   map[int64]string // the usernames of their buyers, by user id
}

// Dashboard returns the figures since the start of the day.
func (s *Admin) Dashboard(ctx context.Context, dayStart time.Time) (*Dashboard, error) {
	db := s.db.WithContext(ctx)
	d := &Dashboard{}
	var sums []struct {
		Status  int
		N       int64
		Revenue decimal.NullDecimal
		Units   int64
	}
	err := db.Model(&Order{}).Select("status, COUNT(*) AS n, SUM(total_amount) AS revenue, SUM(total_count) AS units").
		Where("create_time >= ?", dayStart.UTC()).Group("status").Scan(&sums).Error
	if err != nil {
		return nil, fmt.Errorf("dashboard totals: %w", err)
	}
	d.Revenue = decimal.Zero
	for _, r := range sums {
		d.Orders += r.N
		if r.Status == StatusCanceled {
			d.Canceled += r.N
			continue
		}
		d.Units += r.Units
		if r.Revenue.Valid {
			d.Revenue = d.Revenue.Add(r.Revenue.Decimal)
		}
	}
	low := db.Model(&SKU{}).Where("stock <= low_stock_threshold")
	if err := low.Session(&gorm.Session{}).Count(&d.LowCount).Error; err != nil {
		return nil, fmt.Errorf("dashboard low stock: %w", err)
	}
	if err := low.Order("stock, id").Limit(10).Find(&d.LowStock).Error; err != nil {
		return nil, fmt.Errorf("dashboard low stock: %w", err)
	}
	if err := db.Order("create_time DESC, order_id DESC").Limit(10).Find(&d.Recent).Error; err != nil {
		return nil, fmt.Errorf("dashboard recent orders: %w", err)
	}
	ids := make([]int64, len(d.Recent))
	for i, o := range d.Recent {
		ids[i] = o.UserID
	}
	if d.Buyers, err = s.usernames(ctx, ids); err != nil {
		return nil, err
	}
	return d, nil
}

// OrderFilter selects orders for the admin list. Zero fields select all.
type OrderFilter struct {
	Status   int       // one of the Status constants
	Username string    // exact username
	From, To time.Time // create_time in [From, To)
}

// AdminOrders returns one page of orders, newest first, with their
// buyers' usernames by user id. A username that nobody has selects
// nothing. Returns ErrNotFound for a page past the last.
func (s *Admin) AdminOrders(ctx context.Context, f OrderFilter, number int) ([]Order, map[int64]string, AdminPage, error) {
	q := s.db.WithContext(ctx).Model(&Order{})
	if f.Status != 0 {
		q = q.Where("status = ?", f.Status)
	}
	if f.Username != "" {
		q = q.Where("user_id IN (?)", s.db.Model(&User{}).Select("id").Where("username = ?", f.Username))
	}
	if !f.From.IsZero() {
		q = q.Where("create_time >= ?", f.From.UTC())
	}
	if !f.To.IsZero() {
		q = q.Where("create_time < ?", f.To.UTC())
	}
	pg, err := pageOf(q, number)
	if err != nil {
		return nil, nil, AdminPage{}, fmt.Errorf("admin orders: %w", err)
	}
	var out []Order
	if err := q.Order("create_time DESC, order_id DESC").Offset(pg.offset()).Limit(AdminPageSize).Find(&out).Error; err != nil {
		return nil, nil, AdminPage{}, fmt.Errorf("admin orders: %w", err)
	}
	ids := make([]int64, len(out))
	for i, o := range out {
		ids[i] = o.UserID
	}
	names, err := s.usernames(ctx, ids)
	if err != nil {
		return nil, nil, AdminPage{}, err
	}
	return out, names, pg, nil
}

func (s *Admin) usernames(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	if len(ids) == 0 {
		return out, nil
	}
	var rows []struct {
		ID       int64
		Username string
	}
	if err := s.db.WithContext(ctx).Model(&User{}).Select("id", "username").Where("id IN ?", ids).Scan(&rows).Error; err != nil {
		return nil, fmt.Errorf("usernames: %w", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Username
	}
	return out, nil
}

// OrderDetail is an order as staff see it.
type OrderDetail struct {
	Order   Order // with its lines
	Buyer   string
	Address Address // deleted addresses too: the order keeps pointing at them
	SKUs    map[int64]SKU
}

// AdminOrder returns any user's order with its lines, buyer, address and
// SKUs. Returns ErrNotFound.
func (s *Admin) AdminOrder(ctx context.Context, orderID string) (*OrderDetail, error) {
	db := s.db.WithContext(ctx)
	d := &OrderDetail{SKUs: map[int64]SKU{}}
	if err := db.Preload("Lines", func(db *gorm.DB) *gorm.DB { return db.Order("id") }).Where("order_id = ?", orderID).Take(&d.Order).Error; err != nil {
		return nil, fmt.Errorf("order %q: %w", orderID, translate(err))
	}
	names, err := s.usernames(ctx, []int64{d.Order.UserID})
	if err != nil {
		return nil, err
	}
	d.Buyer = names[d.Order.UserID]
	if err := db.First(&d.Address, d.Order.AddressID).Error; err != nil {
		return nil, fmt.Errorf("address of order %q: %w", orderID, translate(err))
	}
	ids := make([]int64, len(d.Order.Lines))
	for i, l := range d.Order.Lines {
		ids[i] = l.SKUID
	}
	skus, err := s.catalog.SKUsByIDs(ctx, ids)
	if err != nil {
		return nil, err
	}
	for _, k := range skus {
		d.SKUs[k.ID] = k
	}
	return d, nil
}

// lockSKU is a statement that waits for, then takes, a SKU's row lock
// (SQLite has none: its one writer excludes the others).
func lockSKU(tx *Tx) string {
	if tx.Dialect == migrations.SQLite {
		return "SELECT id FROM tb_sku WHERE id = ?"
	}
	return "SELECT id FROM tb_sku WHERE id = ? FOR UPDATE"
}
