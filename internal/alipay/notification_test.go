package alipay

import (
	"errors"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

const testTradeNo = "2024030122001400000000000001"

// testNotification is a notification as Alipay sends it for testRequest,
// read by the shop's handler.
func testNotification(t testing.TB) url.Values {
	t.Helper()
	return viaQuery(t, testGateway(t).Notification(testRequest(), testTradeNo, testNow))
}

func TestParseNotification(t *testing.T) {
	wantPaid := &Notification{
		AppID:       testAppID,
		OutTradeNo:  "20240301043005000000001",
		TradeNo:     testTradeNo,
		TotalAmount: "1999.00",
		TradeStatus: "TRADE_SUCCESS",
		PaidAt:      testNow.In(beijing),
	}
	tests := []struct {
		name    string
		change  func(t testing.TB, p url.Values) url.Values
		want    *Notification // nil: wantErr
		wantErr error
	}{
		{name: "as sent, fund_bill_list JSON and all", want: wantPaid},
		{name: "more parameters the shop never sent", change: func(t testing.TB, p url.Values) url.Values {
			p.Set("voucher_detail_list", `[{"amount":"0.20","name":"券 \"5折\"","type":"ALIPAY_DISCOUNT_VOUCHER"}]`)
			p.Set("passback_params", "a=1&b=2+3")
			p.Set("body", "")
			return resign(t, alipayKey(t), p)
		}, want: wantPaid},
		{name: "no sign_type", change: func(_ testing.TB, p url.Values) url.Values {
			p.Del("sign_type")
			return p
		}, want: wantPaid},
		{name: "an empty parameter added", change: func(_ testing.TB, p url.Values) url.Values {
			p.Set("body", "")
			return p
		}, want: wantPaid},
		{name: "closed, no gmt_payment", change: func(t testing.TB, p url.Values) url.Values {
			p.Set("trade_status", "TRADE_CLOSED")
			p.Del("gmt_payment")
			return resign(t, alipayKey(t), p)
		}, want: &Notification{AppID: testAppID, OutTradeNo: wantPaid.OutTradeNo, TradeNo: testTradeNo, TotalAmount: "1999.00", TradeStatus: "TRADE_CLOSED"}},

		{name: "amount changed", change: set("total_amount", "0.01"), wantErr: ErrBadSignature},
		{name: "order changed", change: set("out_trade_no", "20240301043005000000002"), wantErr: ErrBadSignature},
		{name: "status changed", change: set("trade_status", "TRADE_FINISHED"), wantErr: ErrBadSignature},
		{name: "parameter added", change: set("refund_fee", "1999.00"), wantErr: ErrBadSignature},
		{name: "fund_bill_list quotes dropped", change: func(_ testing.TB, p url.Values) url.Values {
			p.Set("fund_bill_list", strings.ReplaceAll(p.Get("fund_bill_list"), `"`, ""))
			return p
		}, wantErr: ErrBadSignature},
		{name: "sign changed", change: func(_ testing.TB, p url.Values) url.Values {
			s := []byte(p.Get("sign"))
			s[0] ^= 1
			p.Set("sign", string(s))
			return p
		}, wantErr: ErrBadSignature},
		{name: "sign cut short", change: func(_ testing.TB, p url.Values) url.Values {
			p.Set("sign", p.Get("sign")[:100])
			return p
		}, wantErr: ErrBadSignature},
		{name: "sign not base64", change: set("sign", "not base64!"), wantErr: ErrBadSignature},
		{name: "sign missing", change: func(_ testing.TB, p url.Values) url.Values {
			p.Del("sign")
			return p
		}, wantErr: ErrNoSignature},
		{name: "sign empty", change: set("sign", ""), wantErr: ErrNoSignature},
		{name: "sign twice", change: func(_ testing.TB, p url.Values) url.Values {
			p.Add("sign", p.Get("sign"))
			return p
		}, wantErr: ErrMalformed},
		{name: "sign_type RSA", change: set("sign_type", "RSA"), wantErr: ErrSignType},
		{name: "sign_type empty", change: set("sign_type", ""), wantErr: ErrSignType},
		{name: "signed by the app key", change: func(t testing.TB, p url.Values) url.Values {
			return resign(t, appKey(t), p)
		}, wantErr: ErrBadSignature},
		{name: "amount given twice", change: func(_ testing.TB, p url.Values) url.Values {
			p.Add("total_amount", "0.01")
			return p
		}, wantErr: ErrMalformed},
		{name: "another app", change: func(t testing.TB, p url.Values) url.Values {
			p.Set("app_id", "2021000000000002")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrWrongApp},
		{name: "no app", change: func(t testing.TB, p url.Values) url.Values {
			p.Del("app_id")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrMalformed},
		{name: "amount of one decimal", change: func(t testing.TB, p url.Values) url.Values {
			p.Set("total_amount", "1999.0")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrBadAmount},
		{name: "no trade_status", change: func(t testing.TB, p url.Values) url.Values {
			p.Del("trade_status")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrMalformed},
		{name: "no trade_no", change: func(t testing.TB, p url.Values) url.Values {
			p.Del("trade_no")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrMalformed},
		{name: "gmt_payment in UTC", change: func(t testing.TB, p url.Values) url.Values {
			p.Set("gmt_payment", "2024-02-29T20:30:05Z")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrMalformed},
	}
	c := testClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			params := testNotification(t)
			if tt.change != nil {
				params = tt.change(t, params)
			}
			got, err := c.ParseNotification(params)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseNotification: err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseNotification:\n got %+v\nwant %+v", got, tt.want)
			}
			// Verify checks the signature only.
			if tt.wantErr == nil || errors.Is(err, ErrWrongApp) || errors.Is(err, ErrBadAmount) {
				if err := c.Verify(params); err != nil {
					t.Errorf("Verify: %v", err)
				}
			}
		})
	}
}

// set returns a change that sets one parameter without signing again.
func set(name, value string) func(testing.TB, url.Values) url.Values {
	return func(_ testing.TB, p url.Values) url.Values {
		p.Set(name, value)
		return p
	}
}

// The pitfall: a sign whose '+' reached the shop unencoded, so that the
// query decoder made it a space, is refused. Encoded, it verifies.
func TestVerifyPlusAsSpace(t *testing.T) {
	c := testClient(t)
	// Find a trade whose sign holds a '+' (most do).
	var params url.Values
	for i := 0; params == nil; i++ {
		p := testGateway(t).Notification(testRequest(), testTradeNo+strings.Repeat("0", i), testNow)
		if strings.Contains(p.Get("sign"), "+") {
			params = p
		}
	}
	encoded := params.Encode()
	if got, err := url.ParseQuery(encoded); err != nil || c.Verify(got) != nil {
		t.Fatalf("encoded once and decoded once: %v, %v", err, c.Verify(got))
	}
	unencoded := strings.ReplaceAll(encoded, "%2B", "+")
	got, err := url.ParseQuery(unencoded)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got.Get("sign"), " ") {
		t.Fatalf("sign %q holds no space", got.Get("sign"))
	}
	if err := c.Verify(got); !errors.Is(err, ErrBadSignature) {
		t.Errorf("Verify, '+' as space: err = %v, want %v", err, ErrBadSignature)
	}
	if _, err := c.ParseNotification(got); !errors.Is(err, ErrBadSignature) {
		t.Errorf("ParseNotification, '+' as space: err = %v, want %v", err, ErrBadSignature)
	}
}

func TestParseReturn(t *testing.T) {
	want := &Notification{AppID: testAppID, OutTradeNo: "20240301043005000000001", TradeNo: testTradeNo, TotalAmount: "1999.00"}
	tests := []struct {
		name    string
		params  func(t testing.TB) url.Values
		want    *Notification
		wantErr error
	}{
		{name: "as sent", params: testReturn, want: want},
		{name: "amount changed", params: func(t testing.TB) url.Values {
			p := testReturn(t)
			p.Set("total_amount", "0.01")
			return p
		}, wantErr: ErrBadSignature},
		{name: "another method", params: func(t testing.TB) url.Values {
			p := testReturn(t)
			p.Set("method", "alipay.trade.wap.pay.return")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrMalformed},
		{name: "a notification", params: testNotification, wantErr: ErrMalformed},
		{name: "another app", params: func(t testing.TB) url.Values {
			p := testReturn(t)
			p.Set("app_id", "2021000000000002")
			return resign(t, alipayKey(t), p)
		}, wantErr: ErrWrongApp},
		{name: "sign missing", params: func(t testing.TB) url.Values {
			p := testReturn(t)
			p.Del("sign")
			return p
		}, wantErr: ErrNoSignature},
	}
	c := testClient(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.ParseReturn(tt.params(t))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("ParseReturn: err = %v, want %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("ParseReturn:\n got %+v\nwant %+v", got, tt.want)
			}
			if got != nil && got.Paid() {
				t.Errorf("Paid() = true for a return, want false")
			}
		})
	}
}

// testReturn is the query Alipay adds to the return URL for testRequest,
// read by the shop's handler.
func testReturn(t testing.TB) url.Values {
	t.Helper()
	return viaQuery(t, testGateway(t).ReturnParams(testRequest(), testTradeNo, testNow.Add(time.Second)))
}

func TestPaid(t *testing.T) {
	for status, want := range map[string]bool{
		TradeWaitBuyerPay: false,
		TradeClosed:       false,
		TradeSuccess:      true,
		TradeFinished:     true,
		"":                false,
		"trade_success":   false,
	} {
		if got := (&Notification{TradeStatus: status}).Paid(); got != want {
			t.Errorf("Paid() for %q = %v, want %v", status, got, want)
		}
	}
}
