package handlers

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"github.com/gin-gonic/gin"

	"github.com/meiduo/shop/models"
)

// regions is tb_areas indexed for the region endpoints and the address
// checks. The rows never change while the shop runs (only a migration
// writes them), so they are loaded once, on first use, and kept; a failed
// load is retried by the next request.
type regions struct {
	mu        sync.Mutex
	loaded    bool
	provinces []models.Area
	byID      map[int64]models.Area
	children  map[int64][]models.Area
}

// get returns the loaded index.
func (r *regions) get(ctx context.Context, st *models.Areas) (*regions, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.loaded {
		return r, nil
	}
	all, err := st.All(ctx)
	if err != nil {
		return nil, err
	}
	r.byID = make(map[int64]models.Area, len(all))
	r.children = map[int64][]models.Area{}
	for _, a := range all {
		r.byID[a.ID] = a
		if a.ParentID == nil {
			r.provinces = append(r.provinces, a)
		} else {
			r.children[*a.ParentID] = append(r.children[*a.ParentID], a)
		}
	}
	r.loaded = true
	return r, nil
}

// check names the first field of a picked region that is wrong: the
// province unknown, the city not in it, or the district not in the city.
func (r *regions) check(province, city, district int64) error {
	in := func(id, parent int64) bool {
		a, ok := r.byID[id]
		if parent == 0 {
			return ok && a.ParentID == nil
		}
		return ok && a.ParentID != nil && *a.ParentID == parent
	}
	switch {
	case !in(province, 0):
		return badField("province", "addr.err.region")
	case !in(city, province):
		return badField("city", "addr.err.region")
	case !in(district, city):
		return badField("district", "addr.err.region")
	}
	return nil
}

// byNames finds the region whose province, city and district have
// exactly these names; ok is false when there is none.
func (r *regions) byNames(province, city, district string) (p, c, d int64, ok bool) {
	find := func(list []models.Area, name string) (int64, bool) {
		for _, a := range list {
			if a.Name == name {
				return a.ID, true
			}
		}
		return 0, false
	}
	if p, ok = find(r.provinces, province); !ok {
		return 0, 0, 0, false
	}
	if c, ok = find(r.children[p], city); !ok {
		return 0, 0, 0, false
	}
	if d, ok = find(r.children[c], district); !ok {
		return 0, 0, 0, false
	}
	return p, c, d, true
}

// areaItem is a region in the JSON answers.
type areaItem struct {
	ID   int64  `json:"id"`
	Name string `json:"name"`
}

func areaItems(list []models.Area) []areaItem {
	out := make([]areaItem, len(list))
	for i, a := range list {
		out[i] = areaItem{ID: a.ID, Name: a.Name}
	}
	return out
}

// areasCacheControl lets browsers keep the answers: the regions change
// only with a new release.
const areasCacheControl = "public, max-age=86400"

// Areas answers the provinces, as the Django shop's GET /areas/:
// {code:0, errmsg:"OK", province_list:[{id,name}]}.
func (h *Handlers) Areas(c *gin.Context) {
	c.Request.Header.Set("Accept", "application/json") // as in AreaSubs
	r, err := h.regions.get(c.Request.Context(), h.Store.Areas)
	if err != nil {
		h.fail(c, err)
		return
	}
	c.Header("Cache-Control", areasCacheControl)
	ok(c, gin.H{"province_list": areaItems(r.provinces)})
}

// AreaSubs answers a region and the regions in it (a province's cities, a
// city's districts; none for a district): {code:0, errmsg:"OK",
// sub_data:{id,name,subs:[{id,name}]}}. An id that is no region is a
// rejection (code 400); one that is not a number, 404.
func (h *Handlers) AreaSubs(c *gin.Context) {
	// A JSON endpoint whatever the client accepts, as in the Django shop:
	// fail answers JSON to JSON requests.
	c.Request.Header.Set("Accept", "application/json")
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	r, err := h.regions.get(c.Request.Context(), h.Store.Areas)
	if err != nil {
		h.fail(c, err)
		return
	}
	a, found := r.byID[id]
	if !found {
		h.fail(c, reject("area.unknown"))
		return
	}
	c.Header("Cache-Control", areasCacheControl)
	ok(c, gin.H{"sub_data": gin.H{"id": a.ID, "name": a.Name, "subs": areaItems(r.children[id])}})
}
