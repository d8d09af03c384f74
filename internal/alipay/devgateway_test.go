package alipay

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"
)

// devKeys is LoadOrCreateDevKeys of a new directory.
func devKeys(t testing.TB) (*DevKeys, string) {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	k, err := LoadOrCreateDevKeys(dir)
	if err != nil {
		t.Fatalf("LoadOrCreateDevKeys: %v", err)
	}
	return k, dir
}

func TestLoadOrCreateDevKeys(t *testing.T) {
	k, dir := devKeys(t)
	if k.App.Equal(k.Gateway) {
		t.Fatalf("the app and gateway keys are the same")
	}
	for name, key := range map[string]*rsa.PrivateKey{"app": k.App, "gateway": k.Gateway} {
		if got := key.N.BitLen(); got != 2048 {
			t.Errorf("%s key of %d bits, want 2048", name, got)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if got := info.Mode().Perm(); got != 0o600 {
			t.Errorf("%s has mode %v, want 0600", e.Name(), got)
		}
	}
	if want := []string{DevAppKeyFile, DevGatewayKeyFile}; !reflect.DeepEqual(names, want) {
		t.Errorf("files %v, want %v (no temporary file left)", names, want)
	}
	for _, name := range names {
		if _, err := ParsePrivateKey(filepath.Join(dir, name)); err != nil {
			t.Errorf("%s is not a PEM private key: %v", name, err)
		}
	}

	again, err := LoadOrCreateDevKeys(dir)
	if err != nil {
		t.Fatalf("LoadOrCreateDevKeys again: %v", err)
	}
	if !again.App.Equal(k.App) || !again.Gateway.Equal(k.Gateway) {
		t.Errorf("LoadOrCreateDevKeys again made new keys, want the first ones")
	}
}

// Processes that start together end up with the same keys.
func TestLoadOrCreateDevKeysTogether(t *testing.T) {
	dir := t.TempDir()
	keys := make([]*DevKeys, 3)
	errs := make([]error, len(keys))
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() { keys[i], errs[i] = LoadOrCreateDevKeys(dir) })
	}
	wg.Wait()
	for i, k := range keys {
		if errs[i] != nil {
			t.Fatalf("LoadOrCreateDevKeys %d: %v", i, errs[i])
		}
		if !k.App.Equal(keys[0].App) || !k.Gateway.Equal(keys[0].Gateway) {
			t.Errorf("LoadOrCreateDevKeys %d has other keys than 0", i)
		}
	}
}

func TestLoadOrCreateDevKeysRefuses(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, DevGatewayKeyFile)
	if err := os.WriteFile(path, []byte("not a key"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateDevKeys(dir); !errors.Is(err, ErrBadKey) {
		t.Errorf("LoadOrCreateDevKeys with a broken file: err = %v, want %v", err, ErrBadKey)
	}
	if b, _ := os.ReadFile(path); string(b) != "not a key" {
		t.Errorf("the broken file was replaced")
	}
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadOrCreateDevKeys(file); err == nil {
		t.Errorf("LoadOrCreateDevKeys in a file: no error")
	}
}

// The whole development flow: the shop's Client and the DevGateway with
// the development keys, through URLs and forms as the handlers will
// carry them.
func TestDevGateway(t *testing.T) {
	k, _ := devKeys(t)
	c := &Client{
		AppID:           "dev",
		PrivateKey:      k.App,
		AlipayPublicKey: &k.Gateway.PublicKey,
		Gateway:         "http://127.0.0.1:8000/dev/alipay/gateway.do",
		NotifyURL:       "http://127.0.0.1:8000/payment/notify/",
		ReturnURL:       "http://127.0.0.1:8000/payment/status/",
		Now:             func() time.Time { return testNow },
	}
	g := &DevGateway{AppID: "dev", AppPublicKey: &k.App.PublicKey, PrivateKey: k.Gateway}

	raw, err := c.PagePayURL(testOrder)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	req, err := g.CheckRequest(u.Query())
	if err != nil {
		t.Fatalf("CheckRequest: %v", err)
	}
	if req.NotifyURL != c.NotifyURL || req.ReturnURL != c.ReturnURL {
		t.Errorf("CheckRequest: notify and return URLs %q, %q; want %q, %q", req.NotifyURL, req.ReturnURL, c.NotifyURL, c.ReturnURL)
	}

	paidAt := testNow.Add(time.Minute)
	sent := g.Notification(req, testTradeNo, paidAt)
	for _, name := range []string{"notify_time", "notify_type", "notify_id", "app_id", "charset", "version", "sign_type", "sign",
		"trade_no", "out_trade_no", "total_amount", "receipt_amount", "buyer_pay_amount", "subject", "trade_status",
		"gmt_create", "gmt_payment", "fund_bill_list"} {
		if len(sent[name]) != 1 || sent.Get(name) == "" {
			t.Errorf("notification %s = %q, want one value", name, sent[name])
		}
	}
	var bills []map[string]string
	if err := json.Unmarshal([]byte(sent.Get("fund_bill_list")), &bills); err != nil || len(bills) != 1 || bills[0]["amount"] != "1999.00" {
		t.Errorf("fund_bill_list %s: %v", sent.Get("fund_bill_list"), err)
	}
	if got, want := sent.Get("notify_time"), "2024-03-01 04:31:05"; got != want {
		t.Errorf("notify_time = %s, want %s (Beijing)", got, want)
	}

	form, err := url.ParseQuery(sent.Encode()) // the posted form, as r.PostForm
	if err != nil {
		t.Fatal(err)
	}
	n, err := c.ParseNotification(form)
	if err != nil {
		t.Fatalf("ParseNotification: %v", err)
	}
	want := &Notification{AppID: "dev", OutTradeNo: testOrder.OutTradeNo, TradeNo: testTradeNo, TotalAmount: "1999.00",
		TradeStatus: TradeSuccess, PaidAt: paidAt.In(beijing)}
	if !reflect.DeepEqual(n, want) || !n.Paid() {
		t.Errorf("ParseNotification:\n got %+v\nwant %+v", n, want)
	}

	back, err := url.Parse(req.ReturnURL + "?" + g.ReturnParams(req, testTradeNo, paidAt).Encode())
	if err != nil {
		t.Fatal(err)
	}
	r, err := c.ParseReturn(back.Query())
	if err != nil {
		t.Fatalf("ParseReturn: %v", err)
	}
	want.TradeStatus, want.PaidAt = "", time.Time{}
	if !reflect.DeepEqual(r, want) {
		t.Errorf("ParseReturn:\n got %+v\nwant %+v", r, want)
	}

	// Real Alipay's key does not verify the development gateway.
	other := testClient(t)
	other.AppID = "dev"
	if _, err := other.ParseNotification(form); !errors.Is(err, ErrBadSignature) {
		t.Errorf("ParseNotification with another Alipay key: err = %v, want %v", err, ErrBadSignature)
	}
}
