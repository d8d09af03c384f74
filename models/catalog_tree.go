package models

import (
	"context"
	"fmt"
	"time"
)

// The category tree as the Django shop has it: three levels linked by
// parent_id, first-level categories grouped into channels (one home-page
// menu row per channel group), and brands.

// Brand is a product's maker (tb_brands).
type Brand struct {
	ID          int64 `gorm:"primaryKey"`
	CreateTime  time.Time
	UpdateTime  time.Time
	Name        string
	Logo        string
	FirstLetter string
}

func (Brand) TableName() string { return "tb_brands" }

// ChannelGroup is a row of the home page's category menu (tb_channel_group).
type ChannelGroup struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	Name       string
}

func (ChannelGroup) TableName() string { return "tb_channel_group" }

// Channel puts a first-level category into a group, in sequence
// (tb_goods_channel). URL, when set, is where the menu entry leads instead
// of the category's list.
type Channel struct {
	ID         int64 `gorm:"primaryKey"`
	CreateTime time.Time
	UpdateTime time.Time
	GroupID    int64
	CategoryID int64
	URL        string `gorm:"column:url"`
	Sequence   int
}

func (Channel) TableName() string { return "tb_goods_channel" }

// CategoryNode is a category with its children, in id order.
type CategoryNode struct {
	Category Category
	Children []CategoryNode
}

// MenuEntry is one first-level category of a menu row, with its subtree
// and the URL its channel gives ("" for its list).
type MenuEntry struct {
	CategoryNode
	URL string
}

// MenuGroup is one row of the category menu.
type MenuGroup struct {
	Name    string
	Entries []MenuEntry
}

// categoryTree holds every category once, for walking up and down.
type categoryTree struct {
	byID     map[int64]Category
	children map[int64][]Category // by parent id, id order; 0 is the top level
}

func (s *Catalog) tree(ctx context.Context) (*categoryTree, error) {
	var all []Category
	if err := s.db.WithContext(ctx).Order("id").Find(&all).Error; err != nil {
		return nil, fmt.Errorf("categories: %w", err)
	}
	t := &categoryTree{byID: map[int64]Category{}, children: map[int64][]Category{}}
	for _, c := range all {
		t.byID[c.ID] = c
		var parent int64
		if c.ParentID != nil {
			parent = *c.ParentID
		}
		t.children[parent] = append(t.children[parent], c)
	}
	return t, nil
}

// node is c with its descendants; depth bounds the walk, so a cycle in
// bad data cannot loop.
func (t *categoryTree) node(c Category, depth int) CategoryNode {
	n := CategoryNode{Category: c}
	if depth <= 0 {
		return n
	}
	for _, k := range t.children[c.ID] {
		n.Children = append(n.Children, t.node(k, depth-1))
	}
	return n
}

// subtree is id and the ids of its descendants, three levels down at most.
func (t *categoryTree) subtree(id int64) []int64 {
	out := []int64{id}
	level := []int64{id}
	for range 3 {
		var next []int64
		for _, p := range level {
			for _, k := range t.children[p] {
				next = append(next, k.ID)
			}
		}
		out = append(out, next...)
		level = next
	}
	return out
}

// path is the categories from the top level down to id.
func (t *categoryTree) path(id int64) []Category {
	var out []Category
	for range 4 {
		c, ok := t.byID[id]
		if !ok {
			break
		}
		out = append([]Category{c}, out...)
		if c.ParentID == nil {
			break
		}
		id = *c.ParentID
	}
	return out
}

// Menu returns the category menu: each channel group in id order with its
// first-level categories in sequence, each with two levels below it. Top
// levels that no channel holds (a catalog from before channels) follow in
// one last group with an empty name, so that nothing is hidden.
func (s *Catalog) Menu(ctx context.Context) ([]MenuGroup, error) {
	t, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	var groups []ChannelGroup
	var channels []Channel
	db := s.db.WithContext(ctx)
	if err := db.Order("id").Find(&groups).Error; err != nil {
		return nil, fmt.Errorf("channel groups: %w", err)
	}
	if err := db.Order("group_id, sequence, id").Find(&channels).Error; err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	byGroup := map[int64][]Channel{}
	placed := map[int64]bool{}
	for _, ch := range channels {
		byGroup[ch.GroupID] = append(byGroup[ch.GroupID], ch)
	}
	var out []MenuGroup
	for _, g := range groups {
		mg := MenuGroup{Name: g.Name}
		for _, ch := range byGroup[g.ID] {
			c, ok := t.byID[ch.CategoryID]
			if !ok {
				continue
			}
			placed[c.ID] = true
			mg.Entries = append(mg.Entries, MenuEntry{CategoryNode: t.node(c, 2), URL: ch.URL})
		}
		if len(mg.Entries) > 0 {
			out = append(out, mg)
		}
	}
	var rest MenuGroup
	for _, c := range t.children[0] {
		if !placed[c.ID] {
			rest.Entries = append(rest.Entries, MenuEntry{CategoryNode: t.node(c, 2)})
		}
	}
	if len(rest.Entries) > 0 {
		out = append(out, rest)
	}
	return out, nil
}

// CategoryPath returns the categories from the top level down to id, for
// breadcrumbs. Returns ErrNotFound.
func (s *Catalog) CategoryPath(ctx context.Context, id int64) ([]Category, error) {
	t, err := s.tree(ctx)
	if err != nil {
		return nil, err
	}
	p := t.path(id)
	if len(p) == 0 {
		return nil, fmt.Errorf("category %d: %w", id, ErrNotFound)
	}
	return p, nil
}

// CategoryChildren returns the categories right under id, in id order.
func (s *Catalog) CategoryChildren(ctx context.Context, id int64) ([]Category, error) {
	var out []Category
	if err := s.db.WithContext(ctx).Where("parent_id = ?", id).Order("id").Find(&out).Error; err != nil {
		return nil, fmt.Errorf("children of category %d: %w", id, err)
	}
	return out, nil
}

// BrandByID returns one brand. Returns ErrNotFound.
func (s *Catalog) BrandByID(ctx context.Context, id int64) (*Brand, error) {
	var b Brand
	if err := s.db.WithContext(ctx).First(&b, id).Error; err != nil {
		return nil, fmt.Errorf("brand %d: %w", id, translate(err))
	}
	return &b, nil
}
