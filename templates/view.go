package templates

import (
	"context"
	"io"
	"net/url"

	"github.com/a-h/templ"
)

// Page is what every page's view carries for the layout.
type Page struct {
	Lang      Lang
	Title     string
	CSRFToken string
	User      *UserInfo // nil for an anonymous visitor
	CartCount int
	Path      string // the request path, for "next" links
	Query     string // the search box's text
}

// UserInfo is the logged-in user as the layout shows it.
type UserInfo struct {
	ID       int64
	Username string
	IsStaff  bool
}

// T translates a catalog key into the page's language.
func (p Page) T(key string) string { return T(p.Lang, key) }

// Tf translates with fmt.Sprintf arguments.
func (p Page) Tf(key string, args ...any) string { return Tf(p.Lang, key, args...) }

// LangSwitchURL is the current page in the other language.
func (p Page) LangSwitchURL() string {
	other := "en"
	if p.Lang == English {
		other = "zh"
	}
	return "/lang/?to=" + other + "&next=" + url.QueryEscape(p.Path)
}

// LoginURL is the login page, coming back to this page after it.
func (p Page) LoginURL() string { return LoginURL(p.Path) }

// LoginURL is the login page with next set to path, query-encoded, so that
// a path with its own query ("&", "#") comes back whole.
func LoginURL(path string) string { return "/login/?next=" + url.QueryEscape(path) }

// Render writes c to w; callers render into a buffer first.
func Render(ctx context.Context, w io.Writer, c templ.Component) error { return c.Render(ctx, w) }
