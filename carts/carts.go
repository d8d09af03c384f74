// Package carts keeps logged-in shoppers' carts in Redis, as the Django
// shop does: the hash carts_<uid> maps sku_id to count, and the set
// selected_<uid> holds the selected sku_ids. It stores quantities only;
// prices always come from the database.
//
// Two keys serve the order commit (checkout.go): cart_version_<uid>, a
// random value that every change of the cart rewrites in the same step,
// and cart_lock_<uid>, the lock one checkout of the cart holds.
package carts

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"
	"strconv"

	"github.com/go-redsync/redsync/v4"
	"github.com/go-redsync/redsync/v4/redis/goredis/v9"
	"github.com/redis/go-redis/v9"
)

// Limits on a cart. A line above MaxCount or a cart above MaxLines is refused.
const (
	MaxCount = 99
	MaxLines = 50
)

// Sentinel errors.
var (
	ErrCount = errors.New("count out of range")
	ErrFull  = errors.New("cart is full")
)

// Line is one SKU in a cart.
type Line struct {
	SKUID    int64
	Count    int
	Selected bool
}

// Store is the Redis cart store.
type Store struct {
	rdb redis.UniversalClient
	rs  *redsync.Redsync
}

// New returns a Store on rdb.
func New(rdb redis.UniversalClient) *Store {
	return &Store{rdb: rdb, rs: redsync.New(goredis.NewPool(rdb))}
}

func cartKey(uid int64) string     { return "carts_" + strconv.FormatInt(uid, 10) }
func selectedKey(uid int64) string { return "selected_" + strconv.FormatInt(uid, 10) }
func versionKey(uid int64) string  { return "cart_version_" + strconv.FormatInt(uid, 10) }

// keys are the keys every change of uid's cart writes.
func keys(uid int64) []string { return []string{cartKey(uid), selectedKey(uid), versionKey(uid)} }

// newVersion is 128 random bits in hex: a cart version.
func newVersion() string {
	b := make([]byte, 16)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// addScript adds ARGV[2] to the count of ARGV[1], refusing (and changing
// nothing) if the result would pass ARGV[3] or the cart would hold more than
// ARGV[4] lines. ARGV[5] is "1" to select the line. A change sets the
// cart's version KEYS[3] to ARGV[6].
// Returns the new count, -1 for a count out of range, -2 for a full cart.
var addScript = redis.NewScript(`
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1])) or 0
local n = cur + tonumber(ARGV[2])
if n < 1 or n > tonumber(ARGV[3]) then return -1 end
if cur == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], n)
if ARGV[5] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('SET', KEYS[3], ARGV[6])
return n
`)

// Add adds count to the line for skuID (creating it) and sets its selection.
// Returns ErrCount if the line would end outside 1..MaxCount, ErrFull if a
// new line would pass MaxLines.
func (s *Store) Add(ctx context.Context, uid, skuID int64, count int, selected bool) (int, error) {
	return s.run(ctx, uid, skuID, count, selected, "add")
}

// Set sets the line's count and selection, with the same limits as Add.
func (s *Store) Set(ctx context.Context, uid, skuID int64, count int, selected bool) (int, error) {
	if count < 1 || count > MaxCount {
		return 0, ErrCount
	}
	return s.run(ctx, uid, skuID, count, selected, "set")
}

// setScript is addScript with an absolute count.
var setScript = redis.NewScript(`
local exists = redis.call('HEXISTS', KEYS[1], ARGV[1])
if exists == 0 and redis.call('HLEN', KEYS[1]) >= tonumber(ARGV[4]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
if ARGV[5] == '1' then redis.call('SADD', KEYS[2], ARGV[1]) else redis.call('SREM', KEYS[2], ARGV[1]) end
redis.call('SET', KEYS[3], ARGV[6])
return tonumber(ARGV[2])
`)

func (s *Store) run(ctx context.Context, uid, skuID int64, count int, selected bool, op string) (int, error) {
	sel := "0"
	if selected {
		sel = "1"
	}
	script := addScript
	if op == "set" {
		script = setScript
	}
	n, err := script.Run(ctx, s.rdb, keys(uid), skuID, count, MaxCount, MaxLines, sel, newVersion()).Int()
	if err != nil {
		return 0, fmt.Errorf("%s cart line %d for user %d: %w", op, skuID, uid, err)
	}
	switch n {
	case -1:
		return 0, ErrCount
	case -2:
		return 0, ErrFull
	}
	return n, nil
}

// Remove deletes lines, and gives the cart a new version. Removing a
// missing line is not an error.
func (s *Store) Remove(ctx context.Context, uid int64, skuIDs ...int64) error {
	if len(skuIDs) == 0 {
		return nil
	}
	members := make([]any, len(skuIDs))
	fields := make([]string, len(skuIDs))
	for i, id := range skuIDs {
		fields[i] = strconv.FormatInt(id, 10)
		members[i] = fields[i]
	}
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, cartKey(uid), fields...)
		p.SRem(ctx, selectedKey(uid), members...)
		p.Set(ctx, versionKey(uid), newVersion(), 0)
		return nil
	})
	if err != nil {
		return fmt.Errorf("remove cart lines for user %d: %w", uid, err)
	}
	return nil
}

// selectAllScript selects every line of the hash KEYS[1] in the set
// KEYS[2] when ARGV[1] is "1", and clears the set otherwise, in one step so
// a line added meanwhile is never half selected. It sets the cart's
// version KEYS[3] to ARGV[2].
var selectAllScript = redis.NewScript(`
redis.call('SET', KEYS[3], ARGV[2])
redis.call('DEL', KEYS[2])
if ARGV[1] ~= '1' then return 0 end
local ids = redis.call('HKEYS', KEYS[1])
for i = 1, #ids, 500 do
  redis.call('SADD', KEYS[2], unpack(ids, i, math.min(i + 499, #ids)))
end
return #ids
`)

// SelectAll selects, or clears the selection of, every line.
func (s *Store) SelectAll(ctx context.Context, uid int64, selected bool) error {
	sel := "0"
	if selected {
		sel = "1"
	}
	if err := selectAllScript.Run(ctx, s.rdb, keys(uid), sel, newVersion()).Err(); err != nil {
		return fmt.Errorf("select cart for user %d: %w", uid, err)
	}
	return nil
}

// mergeScript writes (sku_id, count, selected) triples from ARGV[3] on into
// the hash KEYS[1] and the set KEYS[2]. A SKU already in the cart is
// overwritten; a new one is added only while the cart holds fewer than
// ARGV[1] lines. It sets the cart's version KEYS[3] to ARGV[2]. Returns
// how many new lines did not fit.
var mergeScript = redis.NewScript(`
local max = tonumber(ARGV[1])
local n = redis.call('HLEN', KEYS[1])
local skipped = 0
redis.call('SET', KEYS[3], ARGV[2])
for i = 3, #ARGV, 3 do
  local id = ARGV[i]
  local fits = redis.call('HEXISTS', KEYS[1], id) == 1
  if not fits and n < max then
    fits = true
    n = n + 1
  end
  if fits then
    redis.call('HSET', KEYS[1], id, ARGV[i + 1])
    if ARGV[i + 2] == '1' then redis.call('SADD', KEYS[2], id) else redis.call('SREM', KEYS[2], id) end
  else
    skipped = skipped + 1
  end
end
return skipped
`)

// Merge moves an anonymous visitor's cart (the cookie cart's lines) into
// the Redis cart of user uid at login, in one atomic step. The rule is the
// Django shop's:
//
//   - a SKU in both carts takes the cookie's count and the cookie's
//     selection state, since the cookie is the shopper's latest intent (the
//     counts are not added up);
//   - a SKU only in the cookie is added with its count and selection;
//   - a SKU only in Redis is kept as it is;
//   - the cart still holds at most MaxLines lines: cookie lines for new
//     SKUs that do not fit are skipped, in ascending SKU id order;
//   - a count above MaxCount becomes MaxCount; a line with a count below 1
//     or a SKU id below 1 is ignored.
//
// Merge returns how many cookie lines were skipped because the cart was
// full.
func (s *Store) Merge(ctx context.Context, uid int64, lines []Line) (skipped int, err error) {
	lines = append([]Line(nil), lines...)
	sort.SliceStable(lines, func(i, j int) bool { return lines[i].SKUID < lines[j].SKUID })
	args := []any{MaxLines, newVersion()}
	for _, l := range lines {
		if l.SKUID < 1 || l.Count < 1 {
			continue
		}
		sel := "0"
		if l.Selected {
			sel = "1"
		}
		args = append(args, l.SKUID, min(l.Count, MaxCount), sel)
	}
	if len(args) == 2 {
		return 0, nil
	}
	skipped, err = mergeScript.Run(ctx, s.rdb, keys(uid), args...).Int()
	if err != nil {
		return 0, fmt.Errorf("merge cookie cart into cart of user %d: %w", uid, err)
	}
	return skipped, nil
}

// Lines returns the cart, ordered by SKU id. Fields that are not numbers
// (written by hand into Redis) are skipped.
func (s *Store) Lines(ctx context.Context, uid int64) ([]Line, error) {
	var all *redis.MapStringStringCmd
	var sel *redis.StringSliceCmd
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		all = p.HGetAll(ctx, cartKey(uid))
		sel = p.SMembers(ctx, selectedKey(uid))
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read cart of user %d: %w", uid, err)
	}
	return parseLines(all.Val(), sel.Val()), nil
}

// parseLines makes the lines of a cart from its hash and its set of
// selected ids, ordered by SKU id.
func parseLines(all map[string]string, sel []string) []Line {
	selected := map[string]bool{}
	for _, id := range sel {
		selected[id] = true
	}
	lines := make([]Line, 0, len(all))
	for k, v := range all {
		id, err1 := strconv.ParseInt(k, 10, 64)
		n, err2 := strconv.Atoi(v)
		if err1 != nil || err2 != nil || n < 1 {
			continue
		}
		lines = append(lines, Line{SKUID: id, Count: n, Selected: selected[k]})
	}
	sort.Slice(lines, func(i, j int) bool { return lines[i].SKUID < lines[j].SKUID })
	return lines
}

// Selected returns the selected lines only, ordered by SKU id.
func (s *Store) Selected(ctx context.Context, uid int64) ([]Line, error) {
	lines, err := s.Lines(ctx, uid)
	if err != nil {
		return nil, err
	}
	return selectedOnly(lines), nil
}

func selectedOnly(lines []Line) []Line {
	out := lines[:0]
	for _, l := range lines {
		if l.Selected {
			out = append(out, l)
		}
	}
	return out
}

// Count is the total quantity in the cart, for the mini cart badge.
func (s *Store) Count(ctx context.Context, uid int64) (int, error) {
	vals, err := s.rdb.HVals(ctx, cartKey(uid)).Result()
	if err != nil {
		return 0, fmt.Errorf("count cart of user %d: %w", uid, err)
	}
	total := 0
	for _, v := range vals {
		if n, err := strconv.Atoi(v); err == nil && n > 0 {
			total += n
		}
	}
	return total, nil
}

// Ping checks Redis answers.
func (s *Store) Ping(ctx context.Context) error { return s.rdb.Ping(ctx).Err() }
