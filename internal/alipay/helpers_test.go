package alipay

import (
	"crypto/rsa"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"
)

const testAppID = "2021000000000001"

// testNow is late in the evening in UTC and already the next day, a new
// month, in Beijing.
var testNow = time.Date(2024, 2, 29, 20, 30, 5, 0, time.UTC)

func testdata(name string) string { return filepath.Join("testdata", name) }

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// appKey is the shop's test key; alipayKey stands for Alipay's.
func appKey(t testing.TB) *rsa.PrivateKey    { return privateKey(t, "app_pkcs1.pem") }
func alipayKey(t testing.TB) *rsa.PrivateKey { return privateKey(t, "alipay_pkcs8.pem") }

func privateKey(t testing.TB, name string) *rsa.PrivateKey {
	t.Helper()
	k, err := ParsePrivateKey(testdata(name))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// testClient is the shop's Client with the test keys and a fixed clock.
func testClient(t testing.TB) *Client {
	t.Helper()
	return &Client{
		AppID:           testAppID,
		PrivateKey:      appKey(t),
		AlipayPublicKey: &alipayKey(t).PublicKey,
		Gateway:         "https://gateway.test/gateway.do",
		NotifyURL:       "https://shop.test/payment/notify/",
		ReturnURL:       "https://shop.test/payment/status/",
		Now:             func() time.Time { return testNow },
	}
}

// testGateway plays Alipay for testClient.
func testGateway(t testing.TB) *DevGateway {
	t.Helper()
	return &DevGateway{AppID: testAppID, AppPublicKey: &appKey(t).PublicKey, PrivateKey: alipayKey(t)}
}

// testRequest is a page-pay request as CheckRequest returns it.
func testRequest() *PageRequest {
	return &PageRequest{
		AppID:       testAppID,
		OutTradeNo:  "20240301043005000000001",
		TotalAmount: "1999.00",
		Subject:     "美多商城订单 20240301043005000000001",
		Timeout:     30 * time.Minute,
		NotifyURL:   "https://shop.test/payment/notify/",
		ReturnURL:   "https://shop.test/payment/status/",
		Timestamp:   testNow,
	}
}

// resign signs params again as Alipay would, after a test changed them.
func resign(t testing.TB, key *rsa.PrivateKey, params url.Values) url.Values {
	t.Helper()
	content, err := canonical(params, "sign", "sign_type")
	if err != nil {
		t.Fatal(err)
	}
	sign, err := signString(key, content)
	if err != nil {
		t.Fatal(err)
	}
	params.Set("sign", sign)
	return params
}

// viaQuery encodes params as Alipay does and decodes them once, as the
// shop's handler does.
func viaQuery(t testing.TB, params url.Values) url.Values {
	t.Helper()
	got, err := url.ParseQuery(params.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return got
}
