package alipay

import (
	"net/url"
	"testing"
)

// FuzzVerify reads arbitrary query strings as a notification, a return
// and a page-pay request: never a panic, and nothing parses that does not
// verify. Seeds: testdata/fuzz/FuzzVerify.
func FuzzVerify(f *testing.F) {
	c := testClient(f)
	g := testGateway(f)
	f.Add("sign=&sign_type=RSA2&app_id=" + testAppID)
	f.Add("sign=%3D%3D%3D&sign=a&total_amount=1.00")
	f.Fuzz(func(t *testing.T, query string) {
		params, _ := url.ParseQuery(query) // what parsed, as a handler would get it
		verr := c.Verify(params)
		if n, err := c.ParseNotification(params); err == nil && (verr != nil || n == nil) {
			t.Errorf("ParseNotification accepted what Verify refuses (%v): %q", verr, query)
		}
		if n, err := c.ParseReturn(params); err == nil && (verr != nil || n == nil) {
			t.Errorf("ParseReturn accepted what Verify refuses (%v): %q", verr, query)
		}
		if req, err := g.CheckRequest(params); err == nil && req == nil {
			t.Errorf("CheckRequest accepted with no request: %q", query)
		}
	})
}
