package alipay_test

import (
	"fmt"
	"log"
	"net/url"
	"os"
	"time"

	"github.com/meiduo/shop/internal/alipay"
)

// The shop with the development gateway: what the handlers of
// GET /payment/<order_id>/, /dev/alipay/gateway.do, POST /payment/notify/
// and GET /payment/status/ do, without HTTP.
func Example() {
	dir, err := os.MkdirTemp("", "alipay-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	keys, err := alipay.LoadOrCreateDevKeys(dir)
	if err != nil {
		log.Fatal(err)
	}
	shop := &alipay.Client{
		AppID:           "dev",
		PrivateKey:      keys.App,
		AlipayPublicKey: &keys.Gateway.PublicKey,
		Gateway:         "http://127.0.0.1:8000/dev/alipay/gateway.do",
		NotifyURL:       "http://127.0.0.1:8000/payment/notify/",
		ReturnURL:       "http://127.0.0.1:8000/payment/status/",
	}
	gateway := &alipay.DevGateway{AppID: "dev", AppPublicKey: &keys.App.PublicKey, PrivateKey: keys.Gateway}

	// GET /payment/<order_id>/ answers this URL.
	payURL, err := shop.PagePayURL(alipay.PageOrder{
		OutTradeNo: "20240301043005000000001", TotalAmount: "1999.00", Subject: "美多商城订单", Timeout: 30 * time.Minute,
	})
	if err != nil {
		log.Fatal(err)
	}

	// The browser brings it to the gateway, which takes the payment.
	u, err := url.Parse(payURL)
	if err != nil {
		log.Fatal(err)
	}
	req, err := gateway.CheckRequest(u.Query())
	if err != nil {
		log.Fatal(err)
	}
	form := gateway.Notification(req, "2024030122001400000000000001", time.Now())

	// POST /payment/notify/ reads r.PostForm, records the payment, and
	// answers "success".
	n, err := shop.ParseNotification(form)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(n.OutTradeNo, n.TotalAmount, n.Paid())

	// GET /payment/status/ reads r.URL.Query().
	r, err := shop.ParseReturn(gateway.ReturnParams(req, "2024030122001400000000000001", time.Now()))
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(r.OutTradeNo, r.TradeNo)
	// Output:
	// 20240301043005000000001 1999.00 true
	// 20240301043005000000001 2024030122001400000000000001
}
