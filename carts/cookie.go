package carts

import (
	"fmt"
	"sort"

	"github.com/gorilla/securecookie"
)

// CookieName is the name of the anonymous visitor's cart cookie. It is part
// of the signed value, so a value signed for another cookie is refused.
const CookieName = "carts"

// CookieMaxAge is how long, in seconds, a cart cookie lives and how long
// its signature is honoured.
const CookieMaxAge = 14 * 24 * 3600

// maxCookieValue keeps the encoded value, with the cookie's name, under
// the 4096 bytes that browsers keep for one cookie. A full cart of
// MaxLines lines with six-digit SKU ids takes about 3,500 bytes.
const maxCookieValue = 4000

// Cookie is an anonymous visitor's cart. The browser keeps it in a cookie
// whose value is the JSON {"<sku_id>": {"count": n, "selected": bool}},
// signed with HMAC-SHA256 (see Encode and DecodeCookie). It obeys the same
// limits as Store. The zero value is an empty cart.
type Cookie struct {
	items map[int64]cookieItem
}

type cookieItem struct {
	Count    int  `json:"count"`
	Selected bool `json:"selected"`
}

func codec(key []byte) *securecookie.SecureCookie {
	sc := securecookie.New(key, nil)
	sc.SetSerializer(securecookie.JSONEncoder{})
	sc.MaxAge(CookieMaxAge)
	sc.MaxLength(0) // checked by Encode and DecodeCookie
	return sc
}

// DecodeCookie reads a cart cookie's value signed with key. A value that is
// not one (tampered, signed with another key, expired, garbled or too long)
// yields an empty cart and an error saying why; the caller treats it as an
// empty cart. Lines that break the limits are dropped (a count above
// MaxCount is lowered to it), so the cart returned always obeys them.
func DecodeCookie(key []byte, value string) (*Cookie, error) {
	if len(value) > maxCookieValue {
		return &Cookie{}, fmt.Errorf("cart cookie of %d bytes is too long", len(value))
	}
	var items map[int64]cookieItem
	if err := codec(key).Decode(CookieName, value, &items); err != nil {
		return &Cookie{}, fmt.Errorf("cart cookie: %w", err)
	}
	ids := make([]int64, 0, len(items))
	for id, it := range items {
		if id > 0 && it.Count > 0 {
			ids = append(ids, id)
		}
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	k := &Cookie{items: map[int64]cookieItem{}}
	for _, id := range ids[:min(len(ids), MaxLines)] {
		it := items[id]
		k.items[id] = cookieItem{Count: min(it.Count, MaxCount), Selected: it.Selected}
	}
	return k, nil
}

// Encode returns the cookie value for the cart, signed with key. Returns
// ErrFull if the value would be too long for a browser to keep.
func (k *Cookie) Encode(key []byte) (string, error) {
	items := k.items
	if items == nil {
		items = map[int64]cookieItem{}
	}
	v, err := codec(key).Encode(CookieName, items)
	if err != nil {
		return "", fmt.Errorf("encode cart cookie: %w", err)
	}
	if len(v) > maxCookieValue {
		return "", ErrFull
	}
	return v, nil
}

// Add adds count to the line for skuID (creating it) and sets its
// selection. Returns the new count, ErrCount if the line would end outside
// 1..MaxCount, ErrFull if a new line would pass MaxLines. On error the
// cart is unchanged.
func (k *Cookie) Add(skuID int64, count int, selected bool) (int, error) {
	return k.put(skuID, k.items[skuID].Count+count, selected)
}

// Set sets the line's count and selection, with the same limits as Add.
func (k *Cookie) Set(skuID int64, count int, selected bool) (int, error) {
	return k.put(skuID, count, selected)
}

func (k *Cookie) put(skuID int64, count int, selected bool) (int, error) {
	if count < 1 || count > MaxCount {
		return 0, ErrCount
	}
	if _, ok := k.items[skuID]; !ok && len(k.items) >= MaxLines {
		return 0, ErrFull
	}
	if k.items == nil {
		k.items = map[int64]cookieItem{}
	}
	k.items[skuID] = cookieItem{Count: count, Selected: selected}
	return count, nil
}

// Remove deletes lines. Removing a missing line is not an error.
func (k *Cookie) Remove(skuIDs ...int64) {
	for _, id := range skuIDs {
		delete(k.items, id)
	}
}

// SelectAll selects, or clears the selection of, every line.
func (k *Cookie) SelectAll(selected bool) {
	for id, it := range k.items {
		it.Selected = selected
		k.items[id] = it
	}
}

// Lines returns the cart, ordered by SKU id.
func (k *Cookie) Lines() []Line {
	lines := make([]Line, 0, len(k.items))
	for id, it := range k.items {
		lines = append(lines, Line{SKUID: id, Count: it.Count, Selected: it.Selected})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].SKUID < lines[j].SKUID })
	return lines
}

// Count is the total quantity in the cart, for the mini cart badge.
func (k *Cookie) Count() int {
	total := 0
	for _, it := range k.items {
		total += it.Count
	}
	return total
}

// Len is the number of lines.
func (k *Cookie) Len() int { return len(k.items) }
