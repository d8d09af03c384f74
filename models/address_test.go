package models_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/meiduo/shop/internal/testenv"
	"github.com/meiduo/shop/models"
)

func addressInput(receiver string) models.AddressInput {
	return models.AddressInput{Receiver: receiver, Province: "广东省", City: "深圳市", District: "南山区",
		Place: "科技园 1 号", Mobile: "13912345678"}
}

// defaultAddress is the user's default address id, 0 for none.
func defaultAddress(t *testing.T, st *models.Store, uid int64) int64 {
	t.Helper()
	u, err := st.Accounts.UserByID(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	if u.DefaultAddressID == nil {
		return 0
	}
	return *u.DefaultAddressID
}

func liveIDs(t *testing.T, st *models.Store, uid int64) []int64 {
	t.Helper()
	list, err := st.Addresses.Addresses(context.Background(), uid)
	if err != nil {
		t.Fatal(err)
	}
	ids := []int64{}
	for _, a := range list {
		ids = append(ids, a.ID)
	}
	return ids
}

func TestAddressBook(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			st := db.Store
			u := testenv.CreateUser(t, st, "owner")
			other := testenv.CreateUser(t, st, "stranger")

			first, err := st.Addresses.CreateAddress(ctx, u.ID, addressInput("李四"))
			if err != nil {
				t.Fatal(err)
			}
			if first.Title != "李四" {
				t.Errorf("title = %q, want the receiver 李四", first.Title)
			}
			if got := defaultAddress(t, st, u.ID); got != first.ID {
				t.Errorf("after the first address the default is %d, want %d", got, first.ID)
			}
			in := addressInput("王五")
			in.Title, in.Tel, in.Email = "公司", "010-62345678", "w@example.com"
			second, err := st.Addresses.CreateAddress(ctx, u.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			if got := defaultAddress(t, st, u.ID); got != first.ID {
				t.Errorf("a second address moved the default to %d, want %d", got, first.ID)
			}

			// Someone else's address is not there for the stranger.
			wrongOwner := []struct {
				name string
				op   func() error
			}{
				{"update", func() error {
					_, err := st.Addresses.UpdateAddress(ctx, other.ID, first.ID, addressInput("x"))
					return err
				}},
				{"delete", func() error { return st.Addresses.DeleteAddress(ctx, other.ID, first.ID) }},
				{"set default", func() error { return st.Addresses.SetDefaultAddress(ctx, other.ID, first.ID) }},
				{"look up", func() error { _, err := st.Addresses.AddressOf(ctx, other.ID, first.ID); return err }},
				{"unknown id", func() error { return st.Addresses.DeleteAddress(ctx, u.ID, first.ID+1000) }},
			}
			for _, tt := range wrongOwner {
				if err := tt.op(); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: error = %v, want ErrNotFound", tt.name, err)
				}
			}
			after, err := st.Addresses.AddressOf(ctx, u.ID, first.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(*first, *after, cmpAddress); diff != "" {
				t.Errorf("the stranger changed the owner's address (-want +got):\n%s", diff)
			}
			if got := defaultAddress(t, st, other.ID); got != 0 {
				t.Errorf("the stranger's default became %d, want none", got)
			}

			upd := addressInput("赵六")
			upd.Place = "新地址 9 号"
			got, err := st.Addresses.UpdateAddress(ctx, u.ID, second.ID, upd)
			if err != nil {
				t.Fatal(err)
			}
			want := *second
			want.Title, want.Receiver, want.Place, want.Tel, want.Email = "赵六", "赵六", "新地址 9 号", "", ""
			if diff := cmp.Diff(want, *got, cmpAddress); diff != "" {
				t.Errorf("UpdateAddress (-want +got):\n%s", diff)
			}

			if err := st.Addresses.SetDefaultAddress(ctx, u.ID, second.ID); err != nil {
				t.Fatal(err)
			}
			if got := defaultAddress(t, st, u.ID); got != second.ID {
				t.Errorf("default = %d, want %d", got, second.ID)
			}

			third, err := st.Addresses.CreateAddress(ctx, u.ID, addressInput("孙七"))
			if err != nil {
				t.Fatal(err)
			}
			steps := []struct {
				name        string
				del         int64
				wantDefault int64
				wantLive    []int64
			}{
				{"delete the default: the oldest left takes over", second.ID, first.ID, []int64{first.ID, third.ID}},
				{"delete another: the default stays", third.ID, first.ID, []int64{first.ID}},
				{"delete the last: no default", first.ID, 0, []int64{}},
			}
			for _, s := range steps {
				if err := st.Addresses.DeleteAddress(ctx, u.ID, s.del); err != nil {
					t.Fatalf("%s: %v", s.name, err)
				}
				if got := defaultAddress(t, st, u.ID); got != s.wantDefault {
					t.Errorf("%s: default = %d, want %d", s.name, got, s.wantDefault)
				}
				if diff := cmp.Diff(s.wantLive, liveIDs(t, st, u.ID)); diff != "" {
					t.Errorf("%s: live addresses (-want +got):\n%s", s.name, diff)
				}
			}
			deleted := []struct {
				name string
				op   func() error
			}{
				{"delete again", func() error { return st.Addresses.DeleteAddress(ctx, u.ID, first.ID) }},
				{"update", func() error { _, err := st.Addresses.UpdateAddress(ctx, u.ID, first.ID, addressInput("x")); return err }},
				{"set default", func() error { return st.Addresses.SetDefaultAddress(ctx, u.ID, first.ID) }},
			}
			for _, tt := range deleted {
				if err := tt.op(); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("deleted address, %s: error = %v, want ErrNotFound", tt.name, err)
				}
			}

			next, err := st.Addresses.CreateAddress(ctx, u.ID, addressInput("周八"))
			if err != nil {
				t.Fatal(err)
			}
			if got := defaultAddress(t, st, u.ID); got != next.ID {
				t.Errorf("with no default left, default = %d, want the new address %d", got, next.ID)
			}
		})
	}
}

// cmpAddress ignores the timestamps.
var cmpAddress = cmp.FilterPath(func(p cmp.Path) bool {
	name := p.Last().String()
	return name == ".CreateTime" || name == ".UpdateTime"
}, cmp.Ignore())

func TestCreateAddressLimitUnderConcurrency(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			u := testenv.CreateUser(t, db.Store, "collector")
			for i := range 15 {
				if _, err := db.Store.Addresses.CreateAddress(ctx, u.ID, addressInput(fmt.Sprintf("r%d", i))); err != nil {
					t.Fatal(err)
				}
			}
			var wg sync.WaitGroup
			errs := make([]error, 10)
			for i := range errs {
				wg.Go(func() {
					_, errs[i] = db.Store.Addresses.CreateAddress(ctx, u.ID, addressInput(fmt.Sprintf("c%d", i)))
				})
			}
			wg.Wait()
			created, refused := 0, 0
			for _, err := range errs {
				switch {
				case err == nil:
					created++
				case errors.Is(err, models.ErrTooMany):
					refused++
				default:
					t.Errorf("concurrent CreateAddress: %v", err)
				}
			}
			if n := len(liveIDs(t, db.Store, u.ID)); n != models.MaxAddresses || created != 5 || refused != 5 {
				t.Errorf("got %d addresses (%d created, %d refused), want %d (5 and 5)", n, created, refused, models.MaxAddresses)
			}
		})
	}
}

// A picked region keeps its ids and takes its names from tb_areas; a
// district outside its city, or a city outside its province, is refused
// and writes nothing.
func TestAddressRegion(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			ctx := context.Background()
			st := db.Store
			u := testenv.CreateUser(t, st, "picker")
			in := addressInput("王五")
			in.Province, in.City, in.District = "typed", "names", "ignored"
			in.ProvinceID, in.CityID, in.DistrictID = 440000, 440300, 440305
			a, err := st.Addresses.CreateAddress(ctx, u.ID, in)
			if err != nil {
				t.Fatal(err)
			}
			got := [3]string{a.Province, a.City, a.District}
			if want := [3]string{"广东省", "深圳市", "南山区"}; got != want {
				t.Errorf("names = %v, want %v", got, want)
			}
			stored, err := st.Addresses.AddressOf(ctx, u.ID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if stored.DistrictID == nil || *stored.DistrictID != 440305 || *stored.CityID != 440300 || *stored.ProvinceID != 440000 {
				t.Errorf("stored ids = %v %v %v, want 440000 440300 440305", stored.ProvinceID, stored.CityID, stored.DistrictID)
			}

			for _, c := range []struct {
				name               string
				province, city, dt int64
			}{
				{"district of another city", 440000, 440300, 440106},
				{"city of another province", 440000, 110100, 110108},
				{"unknown district", 440000, 440300, 440399},
				{"city as province", 440300, 440305, 440305},
				{"ids missing", 440000, 0, 440305},
			} {
				bad := addressInput("赵六")
				bad.ProvinceID, bad.CityID, bad.DistrictID = c.province, c.city, c.dt
				if _, err := st.Addresses.CreateAddress(ctx, u.ID, bad); !errors.Is(err, models.ErrInvalid) {
					t.Errorf("%s: create err = %v, want ErrInvalid", c.name, err)
				}
				if _, err := st.Addresses.UpdateAddress(ctx, u.ID, a.ID, bad); !errors.Is(err, models.ErrInvalid) {
					t.Errorf("%s: update err = %v, want ErrInvalid", c.name, err)
				}
			}
			if ids := liveIDs(t, st, u.ID); len(ids) != 1 {
				t.Errorf("live addresses = %v, want only the first", ids)
			}
			after, err := st.Addresses.AddressOf(ctx, u.ID, a.ID)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(stored, after); diff != "" {
				t.Errorf("refused updates changed the address (-before +after):\n%s", diff)
			}

			// Typed names (the API's older body) clear the ids.
			typed, err := st.Addresses.UpdateAddress(ctx, u.ID, a.ID, addressInput("王五"))
			if err != nil {
				t.Fatal(err)
			}
			if typed.DistrictID != nil || typed.City != "深圳市" {
				t.Errorf("typed update: ids %v, city %q; want nil and 深圳市", typed.DistrictID, typed.City)
			}
		})
	}
}

func TestAreas(t *testing.T) {
	for _, db := range testenv.Databases(t) {
		t.Run(db.Name, func(t *testing.T) {
			all, err := db.Store.Areas.All(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if len(all) != 3429 {
				t.Errorf("areas = %d, want 3429", len(all))
			}
			if all[0].ID != 110000 || all[0].Name != "北京市" || all[0].ParentID != nil {
				t.Errorf("first area = %+v, want 110000 北京市 without parent", all[0])
			}
		})
	}
}
