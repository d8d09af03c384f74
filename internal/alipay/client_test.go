package alipay

import (
	"encoding/json"
	"errors"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
)

var testOrder = PageOrder{
	OutTradeNo:  "20240301043005000000001",
	TotalAmount: "1999.00",
	Subject:     "美多商城订单 20240301043005000000001",
	Timeout:     30 * time.Minute,
}

// pagePayParams returns the parameters of PagePayURL(o), read back from
// the URL.
func pagePayParams(t testing.TB, c *Client, o PageOrder) url.Values {
	t.Helper()
	raw, err := c.PagePayURL(o)
	if err != nil {
		t.Fatalf("PagePayURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query()
}

func TestPagePayURL(t *testing.T) {
	c := testClient(t)
	raw, err := c.PagePayURL(testOrder)
	if err != nil {
		t.Fatalf("PagePayURL: %v", err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Scheme+"://"+u.Host+u.Path, c.Gateway; got != want {
		t.Errorf("gateway = %s, want %s", got, want)
	}
	// Every value is URL-encoded: a raw '+' would come back a space.
	rawSign := regexp.MustCompile(`(?:^|&)sign=([^&]*)`).FindStringSubmatch(u.RawQuery)
	if rawSign == nil || strings.ContainsAny(rawSign[1], "+/=") {
		t.Errorf("sign in the URL is not URL-encoded: %v", rawSign)
	}

	params := u.Query()
	want := map[string]string{
		"app_id":     testAppID,
		"method":     "alipay.trade.page.pay",
		"format":     "JSON",
		"charset":    "utf-8",
		"sign_type":  "RSA2",
		"timestamp":  "2024-03-01 04:30:05", // testNow in Beijing
		"version":    "1.0",
		"notify_url": "https://shop.test/payment/notify/",
		"return_url": "https://shop.test/payment/status/",
	}
	for name, w := range want {
		if got := params[name]; len(got) != 1 || got[0] != w {
			t.Errorf("%s = %q, want %q", name, got, w)
		}
	}
	if !regexp.MustCompile(`^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$`).MatchString(params.Get("timestamp")) {
		t.Errorf("timestamp %q is not yyyy-MM-dd HH:mm:ss", params.Get("timestamp"))
	}
	var biz map[string]string
	if err := json.Unmarshal([]byte(params.Get("biz_content")), &biz); err != nil {
		t.Fatalf("biz_content: %v", err)
	}
	wantBiz := map[string]string{
		"out_trade_no":    testOrder.OutTradeNo,
		"total_amount":    "1999.00",
		"subject":         testOrder.Subject,
		"product_code":    "FAST_INSTANT_TRADE_PAY",
		"timeout_express": "30m",
	}
	if !reflect.DeepEqual(biz, wantBiz) {
		t.Errorf("biz_content:\n got %v\nwant %v", biz, wantBiz)
	}
	if got, want := len(params), len(want)+2; got != want {
		t.Errorf("%d parameters, want %d (with biz_content and sign): %v", got, want, params)
	}
	content, err := canonical(params, "sign")
	if err != nil {
		t.Fatal(err)
	}
	if err := verifyString(&c.PrivateKey.PublicKey, content, params.Get("sign")); err != nil {
		t.Errorf("sign: %v", err)
	}

	req, err := testGateway(t).CheckRequest(params)
	if err != nil {
		t.Fatalf("DevGateway.CheckRequest: %v", err)
	}
	wantReq := testRequest()
	wantReq.Timestamp = testNow.Truncate(time.Second).In(beijing)
	if !reflect.DeepEqual(req, wantReq) {
		t.Errorf("DevGateway.CheckRequest:\n got %+v\nwant %+v", req, wantReq)
	}
}

// DevGateway.CheckRequest refuses a page-pay request that was changed
// after signing, or is not for it.
func TestCheckRequestRefuses(t *testing.T) {
	otherKey := &alipayKey(t).PublicKey
	tests := []struct {
		name    string
		change  func(url.Values)
		gateway func(*DevGateway)
		wantErr error
	}{
		{name: "as signed"},
		{name: "amount in biz_content", change: func(p url.Values) {
			p.Set("biz_content", strings.Replace(p.Get("biz_content"), "1999.00", "0.01", 1))
		}, wantErr: ErrBadSignature},
		{name: "notify_url", change: func(p url.Values) { p.Set("notify_url", "https://evil.test/") }, wantErr: ErrBadSignature},
		{name: "parameter added", change: func(p url.Values) { p.Set("passback_params", "x") }, wantErr: ErrBadSignature},
		{name: "empty parameter added", change: func(p url.Values) { p.Set("passback_params", "") }},
		{name: "timestamp", change: func(p url.Values) { p.Set("timestamp", "2024-03-01 04:30:06") }, wantErr: ErrBadSignature},
		{name: "sign changed", change: func(p url.Values) {
			s := []byte(p.Get("sign"))
			s[10] ^= 1
			p.Set("sign", string(s))
		}, wantErr: ErrBadSignature},
		{name: "sign missing", change: func(p url.Values) { p.Del("sign") }, wantErr: ErrNoSignature},
		{name: "sign_type missing", change: func(p url.Values) { p.Del("sign_type") }, wantErr: ErrSignType},
		{name: "sign_type RSA", change: func(p url.Values) { p.Set("sign_type", "RSA") }, wantErr: ErrSignType},
		{name: "repeated", change: func(p url.Values) { p.Add("app_id", testAppID) }, wantErr: ErrMalformed},
		{name: "another app", gateway: func(g *DevGateway) { g.AppID = "2021000000000002" }, wantErr: ErrWrongApp},
		{name: "another app key", gateway: func(g *DevGateway) { g.AppPublicKey = otherKey }, wantErr: ErrBadSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := pagePayParams(t, testClient(t), testOrder)
			if tt.change != nil {
				tt.change(params)
			}
			g := testGateway(t)
			if tt.gateway != nil {
				tt.gateway(g)
			}
			_, err := g.CheckRequest(params)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckRequest: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

// DevGateway.CheckRequest checks what Alipay checks in a request signed
// by the shop's key.
func TestCheckRequestChecks(t *testing.T) {
	tests := []struct {
		name    string
		change  func(url.Values)
		wantErr error
	}{
		{name: "another method", change: func(p url.Values) { p.Set("method", "alipay.trade.wap.pay") }, wantErr: ErrMalformed},
		{name: "GBK", change: func(p url.Values) { p.Set("charset", "GBK") }, wantErr: ErrMalformed},
		{name: "UTC timestamp", change: func(p url.Values) { p.Set("timestamp", "2024-02-29T20:30:05Z") }, wantErr: ErrMalformed},
		{name: "no biz_content", change: func(p url.Values) { p.Del("biz_content") }, wantErr: ErrMalformed},
		{name: "biz_content not JSON", change: func(p url.Values) { p.Set("biz_content", "{") }, wantErr: ErrMalformed},
		{name: "amount as number", change: func(p url.Values) {
			p.Set("biz_content", `{"out_trade_no":"1","total_amount":1999.00,"subject":"s","product_code":"FAST_INSTANT_TRADE_PAY"}`)
		}, wantErr: ErrMalformed},
		{name: "amount of one decimal", change: func(p url.Values) {
			p.Set("biz_content", `{"out_trade_no":"1","total_amount":"1999.0","subject":"s","product_code":"FAST_INSTANT_TRADE_PAY"}`)
		}, wantErr: ErrBadAmount},
		{name: "another product", change: func(p url.Values) {
			p.Set("biz_content", `{"out_trade_no":"1","total_amount":"1.00","subject":"s","product_code":"QUICK_WAP_WAY"}`)
		}, wantErr: ErrBadOrder},
		{name: "timeout in seconds", change: func(p url.Values) {
			p.Set("biz_content", `{"out_trade_no":"1","total_amount":"1.00","subject":"s","product_code":"FAST_INSTANT_TRADE_PAY","timeout_express":"90s"}`)
		}, wantErr: ErrBadOrder},
		{name: "timeout in hours, extra fields", change: func(p url.Values) {
			p.Set("biz_content", `{"out_trade_no":"1","total_amount":"1.00","subject":"s","product_code":"FAST_INSTANT_TRADE_PAY","timeout_express":"2h","body":"b"}`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := pagePayParams(t, testClient(t), testOrder)
			tt.change(params)
			if err := signParams(appKey(t), params); err != nil {
				t.Fatal(err)
			}
			_, err := testGateway(t).CheckRequest(params)
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("CheckRequest: err = %v, want %v", err, tt.wantErr)
			}
		})
	}
}

func TestPagePayURLRefuses(t *testing.T) {
	tests := []struct {
		name    string
		change  func(*PageOrder)
		wantErr error
	}{
		{name: "no decimals", change: func(o *PageOrder) { o.TotalAmount = "1999" }, wantErr: ErrBadAmount},
		{name: "one decimal", change: func(o *PageOrder) { o.TotalAmount = "1999.0" }, wantErr: ErrBadAmount},
		{name: "three decimals", change: func(o *PageOrder) { o.TotalAmount = "1999.000" }, wantErr: ErrBadAmount},
		{name: "negative", change: func(o *PageOrder) { o.TotalAmount = "-1.00" }, wantErr: ErrBadAmount},
		{name: "zero", change: func(o *PageOrder) { o.TotalAmount = "0.00" }, wantErr: ErrBadAmount},
		{name: "thousands separator", change: func(o *PageOrder) { o.TotalAmount = "1,999.00" }, wantErr: ErrBadAmount},
		{name: "full-width digits", change: func(o *PageOrder) { o.TotalAmount = "１.00" }, wantErr: ErrBadAmount},
		{name: "over the limit", change: func(o *PageOrder) { o.TotalAmount = "100000000.01" }, wantErr: ErrBadAmount},
		{name: "overflowing", change: func(o *PageOrder) { o.TotalAmount = "99999999999999999999.00" }, wantErr: ErrBadAmount},
		{name: "no order id", change: func(o *PageOrder) { o.OutTradeNo = "" }, wantErr: ErrBadOrder},
		{name: "order id with a dash", change: func(o *PageOrder) { o.OutTradeNo = "2024-1" }, wantErr: ErrBadOrder},
		{name: "order id of 65", change: func(o *PageOrder) { o.OutTradeNo = strings.Repeat("1", 65) }, wantErr: ErrBadOrder},
		{name: "no subject", change: func(o *PageOrder) { o.Subject = "" }, wantErr: ErrBadOrder},
		{name: "subject of 257", change: func(o *PageOrder) { o.Subject = strings.Repeat("商", 257) }, wantErr: ErrBadOrder},
		{name: "no timeout", change: func(o *PageOrder) { o.Timeout = 0 }, wantErr: ErrBadOrder},
		{name: "timeout under a minute", change: func(o *PageOrder) { o.Timeout = 59 * time.Second }, wantErr: ErrBadOrder},
		{name: "timeout over 15 days", change: func(o *PageOrder) { o.Timeout = 15*24*time.Hour + time.Minute }, wantErr: ErrBadOrder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOrder
			tt.change(&o)
			got, err := testClient(t).PagePayURL(o)
			if !errors.Is(err, tt.wantErr) || got != "" {
				t.Errorf("PagePayURL: %q, %v; want \"\", %v", got, err, tt.wantErr)
			}
		})
	}
	if _, err := (&Client{AppID: testAppID}).PagePayURL(testOrder); err == nil {
		t.Errorf("PagePayURL without a private key: no error")
	}
}

func TestPagePayURLTimeoutAndGateway(t *testing.T) {
	tests := []struct {
		name        string
		timeout     time.Duration
		amount      string
		gateway     string
		wantTimeout string
		wantPrefix  string
	}{
		{name: "default gateway", timeout: 30 * time.Minute, amount: "0.01", wantTimeout: "30m", wantPrefix: DefaultGateway + "?"},
		{name: "sandbox", timeout: 90 * time.Second, amount: "100000000.00", gateway: SandboxGateway, wantTimeout: "1m", wantPrefix: SandboxGateway + "?"},
		{name: "gateway with a query", timeout: 2 * time.Hour, amount: "1.50", gateway: "http://127.0.0.1:8000/dev/alipay/gateway.do?env=dev", wantTimeout: "120m",
			wantPrefix: "http://127.0.0.1:8000/dev/alipay/gateway.do?env=dev&"},
		{name: "15 days", timeout: 15 * 24 * time.Hour, amount: "1.00", wantTimeout: "21600m", wantPrefix: DefaultGateway + "?"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := testClient(t)
			c.Gateway = tt.gateway
			o := testOrder
			o.Timeout, o.TotalAmount = tt.timeout, tt.amount
			raw, err := c.PagePayURL(o)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(raw, tt.wantPrefix) {
				t.Errorf("PagePayURL = %s, want prefix %s", raw, tt.wantPrefix)
			}
			u, err := url.Parse(raw)
			if err != nil {
				t.Fatal(err)
			}
			var biz bizContent
			if err := json.Unmarshal([]byte(u.Query().Get("biz_content")), &biz); err != nil {
				t.Fatal(err)
			}
			if biz.TimeoutExpress != tt.wantTimeout || biz.TotalAmount != tt.amount {
				t.Errorf("timeout_express, total_amount = %q, %q; want %q, %q", biz.TimeoutExpress, biz.TotalAmount, tt.wantTimeout, tt.amount)
			}
		})
	}
}
