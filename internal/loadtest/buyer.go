package loadtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// buyer is one shopper with its own cookies, as a browser would have.
type buyer struct {
	base      string
	http      *http.Client
	csrf      string
	addressID int64
}

var csrfMeta = regexp.MustCompile(`<meta name="csrf-token" content="([^"]+)"`)

func newBuyer(base string, transport http.RoundTripper) *buyer {
	jar, _ := cookiejar.New(nil)
	return &buyer{base: strings.TrimRight(base, "/"), http: &http.Client{
		Jar:           jar,
		Timeout:       30 * time.Second,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// reply is the shop's JSON answer.
type reply struct {
	Code    int             `json:"code"`
	Errmsg  string          `json:"errmsg"`
	OrderID string          `json:"order_id"`
	Address json.RawMessage `json:"address"`
}

// httpError is an answer that is not the expected HTTP status.
type httpError struct {
	Status int
	Body   string
}

func (e *httpError) Error() string {
	return fmt.Sprintf("HTTP %d: %.200s", e.Status, e.Body)
}

func (b *buyer) do(ctx context.Context, method, path, ctype string, body []byte) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, b.base+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json, text/html")
	if b.csrf != "" {
		req.Header.Set("X-CSRFToken", b.csrf)
	}
	res, err := b.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		if m := csrfMeta.FindSubmatch(data); m != nil {
			b.csrf = string(m[1])
		}
	}
	return res.StatusCode, data, err
}

// page fetches a page (and its CSRF token).
func (b *buyer) page(ctx context.Context, path string) error {
	st, data, err := b.do(ctx, http.MethodGet, path, "", nil)
	if err != nil {
		return err
	}
	if st != http.StatusOK {
		return &httpError{st, string(data)}
	}
	return nil
}

// form posts a form the way a browser does and expects a redirect.
func (b *buyer) form(ctx context.Context, path string, v url.Values) error {
	v.Set("csrfmiddlewaretoken", b.csrf)
	st, data, err := b.do(ctx, http.MethodPost, path, "application/x-www-form-urlencoded", []byte(v.Encode()))
	if err != nil {
		return err
	}
	if st != http.StatusFound && st != http.StatusSeeOther {
		return &httpError{st, string(data)}
	}
	return nil
}

// call sends JSON and decodes the shop's {code, errmsg, ...} answer.
func (b *buyer) call(ctx context.Context, method, path string, in any) (reply, int, error) {
	js, err := json.Marshal(in)
	if err != nil {
		return reply{}, 0, err
	}
	st, data, err := b.do(ctx, method, path, "application/json", js)
	if err != nil {
		return reply{}, 0, err
	}
	var r reply
	if err := json.Unmarshal(data, &r); err != nil {
		return reply{}, st, &httpError{st, string(data)}
	}
	if st != http.StatusOK {
		return r, st, &httpError{st, string(data)}
	}
	return r, st, nil
}

// signUp registers the buyer (logging in), then adds an address.
func (b *buyer) signUp(ctx context.Context, username, password, mobile string) error {
	if err := b.page(ctx, "/register/"); err != nil {
		return fmt.Errorf("register page: %w", err)
	}
	err := b.form(ctx, "/register/", url.Values{
		"username": {username}, "password": {password}, "password2": {password},
		"mobile": {mobile}, "allow": {"on"},
	})
	if err != nil {
		return fmt.Errorf("register %s: %w", username, err)
	}
	if err := b.page(ctx, "/addresses/"); err != nil {
		return fmt.Errorf("address page: %w", err)
	}
	r, _, err := b.call(ctx, http.MethodPost, "/addresses/create/", map[string]any{
		"receiver": "压测买家", "province": "北京市", "city": "北京市", "district": "海淀区",
		"place": "中关村大街 1 号", "mobile": mobile, "title": "家",
	})
	if err != nil {
		return fmt.Errorf("create address: %w", err)
	}
	if r.Code != 0 {
		return fmt.Errorf("create address: code %d %s", r.Code, r.Errmsg)
	}
	var a struct {
		ID int64 `json:"id"`
	}
	if err := json.Unmarshal(r.Address, &a); err != nil || a.ID == 0 {
		return errors.New("create address: no address id in the answer")
	}
	b.addressID = a.ID
	return nil
}

// newTransport is the connection pool all buyers of a run share: enough
// idle connections for every buyer, so none dials per request.
func newTransport(buyers int) *http.Transport {
	return &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        buyers * 2,
		MaxIdleConnsPerHost: buyers * 2,
		IdleConnTimeout:     60 * time.Second,
	}
}
