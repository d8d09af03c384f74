package models

import (
	"context"
	"fmt"
	"maps"
	"time"
)

// Specifications, as the Django shop has them: an SPU has specifications
// (存储, 颜色), each with options (128GB, 256GB; 黑, 白), and each SKU has
// one option per specification (the database holds that: UNIQUE
// (sku_id, spec_id), and the option belongs to its specification). A SKU
// without specifications, from before them, still sells: its page shows no
// choice.

// Specification is one of an SPU's specifications (tb_spu_specification).
type Specification struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	SPUID      int64 `gorm:"column:spu_id"`
	Name       string
}

func (Specification) TableName() string { return "tb_spu_specification" }

// SpecOption is one value of a specification (tb_specification_option).
type SpecOption struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	SpecID     int64
	Value      string
}

func (SpecOption) TableName() string { return "tb_specification_option" }

// SKUSpec is a SKU's option for one specification (tb_sku_specification).
type SKUSpec struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	SKUID      int64 `gorm:"column:sku_id"`
	SpecID     int64
	OptionID   int64
}

func (SKUSpec) TableName() string { return "tb_sku_specification" }

// SpecChoice is one specification of a product page with its options.
type SpecChoice struct {
	Spec    Specification
	Options []OptionChoice
}

// OptionChoice is one option as a link: SKU is the launched SKU that has
// this option and keeps the current SKU's other options, nil when there
// is none (the choice is disabled).
type OptionChoice struct {
	Option  SpecOption
	Current bool
	SKU     *SKU
}

// combination is the options of the SKUs of one SPU.
type combination struct {
	specs   []Specification
	options map[int64][]SpecOption // by spec id, id order
	skus    []SKU                  // launched, id order
	of      map[int64]map[int64]int64
}

// combinations loads an SPU's specifications, options and the launched
// SKUs' options.
func (s *Catalog) combinations(ctx context.Context, spuID int64) (*combination, error) {
	db := s.db.WithContext(ctx)
	c := &combination{options: map[int64][]SpecOption{}, of: map[int64]map[int64]int64{}}
	if err := db.Where("spu_id = ?", spuID).Order("id").Find(&c.specs).Error; err != nil {
		return nil, fmt.Errorf("specifications of spu %d: %w", spuID, err)
	}
	if len(c.specs) == 0 {
		return c, nil
	}
	ids := make([]int64, len(c.specs))
	for i, sp := range c.specs {
		ids[i] = sp.ID
	}
	var opts []SpecOption
	if err := db.Where("spec_id IN ?", ids).Order("id").Find(&opts).Error; err != nil {
		return nil, fmt.Errorf("options of spu %d: %w", spuID, err)
	}
	for _, o := range opts {
		c.options[o.SpecID] = append(c.options[o.SpecID], o)
	}
	if err := s.launched(ctx).Where("spu_id = ?", spuID).Order("id").Find(&c.skus).Error; err != nil {
		return nil, fmt.Errorf("skus of spu %d: %w", spuID, err)
	}
	var rows []SKUSpec
	err := db.Where("spec_id IN ?", ids).Order("sku_id, spec_id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("sku options of spu %d: %w", spuID, err)
	}
	for _, r := range rows {
		if c.of[r.SKUID] == nil {
			c.of[r.SKUID] = map[int64]int64{}
		}
		c.of[r.SKUID][r.SpecID] = r.OptionID
	}
	return c, nil
}

// find is the launched SKU with exactly these options (spec id to option
// id, one for every specification), or nil.
func (c *combination) find(want map[int64]int64) *SKU {
	if len(want) != len(c.specs) {
		return nil
	}
	for i := range c.skus {
		if maps.Equal(c.of[c.skus[i].ID], want) {
			return &c.skus[i]
		}
	}
	return nil
}

// choices is the product page's specifications for SKU cur: for each
// option the SKU that keeps cur's other options. A SKU without an option
// for every specification gets no choice at all.
func (c *combination) choices(cur int64) []SpecChoice {
	mine := c.of[cur]
	if len(c.specs) == 0 || len(mine) != len(c.specs) {
		return nil
	}
	out := make([]SpecChoice, 0, len(c.specs))
	for _, sp := range c.specs {
		ch := SpecChoice{Spec: sp}
		for _, o := range c.options[sp.ID] {
			want := maps.Clone(mine)
			want[sp.ID] = o.ID
			ch.Options = append(ch.Options, OptionChoice{Option: o, Current: mine[sp.ID] == o.ID, SKU: c.find(want)})
		}
		out = append(out, ch)
	}
	return out
}

// SKUForOptions returns the launched SKU of the SPU that has exactly these
// options, one per specification of the SPU. Returns ErrNotFound when no
// launched SKU has that combination, and ErrInvalid when the options are
// not one per specification of the SPU.
func (s *Catalog) SKUForOptions(ctx context.Context, spuID int64, optionIDs []int64) (*SKU, error) {
	c, err := s.combinations(ctx, spuID)
	if err != nil {
		return nil, err
	}
	specOf := map[int64]int64{}
	for spec, opts := range c.options {
		for _, o := range opts {
			specOf[o.ID] = spec
		}
	}
	want := map[int64]int64{}
	for _, id := range optionIDs {
		spec, ok := specOf[id]
		if !ok || want[spec] != 0 {
			return nil, fmt.Errorf("spu %d options %v: %w: not one option per specification", spuID, optionIDs, ErrInvalid)
		}
		want[spec] = id
	}
	if len(want) != len(c.specs) || len(c.specs) == 0 {
		return nil, fmt.Errorf("spu %d options %v: %w: not one option per specification", spuID, optionIDs, ErrInvalid)
	}
	k := c.find(want)
	if k == nil {
		return nil, fmt.Errorf("spu %d options %v: %w", spuID, optionIDs, ErrNotFound)
	}
	return k, nil
}

// SKUOptions returns a SKU's options by specification name, for the admin
// page. A SKU from before specifications has none.
func (s *Catalog) SKUOptions(ctx context.Context, skuID int64) ([]SpecValue, error) {
	var out []SpecValue
	err := s.db.WithContext(ctx).Table("tb_sku_specification AS ks").
		Select("sp.name AS name, o.value AS value").
		Joins("JOIN tb_spu_specification sp ON sp.id = ks.spec_id").
		Joins("JOIN tb_specification_option o ON o.id = ks.option_id").
		Where("ks.sku_id = ?", skuID).Order("sp.id").Scan(&out).Error
	if err != nil {
		return nil, fmt.Errorf("options of sku %d: %w", skuID, err)
	}
	return out, nil
}

// SpecValue is a specification's name and a SKU's option for it.
type SpecValue struct {
	Name  string
	Value string
}
