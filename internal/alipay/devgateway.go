package alipay

import (
	"crypto/rsa"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"time"
	"unicode/utf8"
)

// DevGateway is the logic of a development stand-in for Alipay's gateway,
// without HTTP: the shop's handler at /dev/alipay/gateway.do calls it. It
// checks a page-pay request as Alipay does, and makes the notification and
// return parameters Alipay would send, signed the same way, so that the
// shop reads them with the same Client code as real Alipay's.
//
// With keys from LoadOrCreateDevKeys, the Client has PrivateKey k.App and
// AlipayPublicKey &k.Gateway.PublicKey; the DevGateway has AppPublicKey
// &k.App.PublicKey and PrivateKey k.Gateway.
type DevGateway struct {
	// AppID is the app id the shop's Client sends.
	AppID string
	// AppPublicKey verifies requests: the public half of the Client's
	// PrivateKey.
	AppPublicKey *rsa.PublicKey
	// PrivateKey signs notifications and returns: the Client's
	// AlipayPublicKey is its public half.
	PrivateKey *rsa.PrivateKey
}

// PageRequest is a page-pay request that CheckRequest accepted.
type PageRequest struct {
	AppID       string
	OutTradeNo  string
	TotalAmount string
	Subject     string
	Timeout     time.Duration // timeout_express; 0 when absent
	NotifyURL   string        // empty when absent
	ReturnURL   string        // empty when absent
	Timestamp   time.Time
}

// Made-up Alipay user ids of the development buyer and seller.
const (
	devBuyerID  = "2088000000000001"
	devSellerID = "2088000000000002"
)

var timeoutExpressRE = regexp.MustCompile(`^([1-9][0-9]{0,5})([mhd])$`)

// CheckRequest reads a page-pay request (the query or form the buyer's
// browser brings) as Alipay does: sign_type RSA2, the signature over every
// non-empty parameter but sign verified with AppPublicKey, method
// alipay.trade.page.pay, the app_id, charset utf-8, version 1.0, the
// timestamp, and biz_content's out_trade_no, total_amount, subject,
// product_code and timeout_express.
//
// Returns ErrNoSignature, ErrSignType, ErrBadSignature, ErrWrongApp,
// ErrBadAmount, ErrBadOrder, or ErrMalformed for a parameter missing,
// repeated or unreadable.
func (g *DevGateway) CheckRequest(params url.Values) (*PageRequest, error) {
	req, err := g.checkRequest(params)
	if err != nil {
		return nil, fmt.Errorf("development gateway: %w", err)
	}
	return req, nil
}

func (g *DevGateway) checkRequest(params url.Values) (*PageRequest, error) {
	if g.AppPublicKey == nil {
		return nil, errors.New("no AppPublicKey")
	}
	st, err := single(params, "sign_type")
	if err != nil {
		return nil, err
	}
	if st != signTypeRSA2 {
		return nil, fmt.Errorf("%w: %q", ErrSignType, st)
	}
	if err := verifyWithout(g.AppPublicKey, params, "sign"); err != nil {
		return nil, err
	}
	want := map[string]string{"method": methodPagePay, "charset": charsetUTF8, "version": apiVersion}
	for _, name := range []string{"method", "charset", "version"} {
		if v, _ := single(params, name); v != want[name] {
			return nil, fmt.Errorf("%w: %s %q, want %q", ErrMalformed, name, v, want[name])
		}
	}
	if f, _ := single(params, "format"); f != "" && f != "JSON" {
		return nil, fmt.Errorf("%w: format %q, want JSON", ErrMalformed, f)
	}
	req := &PageRequest{}
	if req.AppID, err = required(params, "app_id"); err != nil {
		return nil, err
	}
	if req.AppID != g.AppID {
		return nil, fmt.Errorf("%w: %q", ErrWrongApp, req.AppID)
	}
	ts, err := required(params, "timestamp")
	if err != nil {
		return nil, err
	}
	if req.Timestamp, err = parseWireTime(ts); err != nil {
		return nil, fmt.Errorf("%w: timestamp %q is not yyyy-MM-dd HH:mm:ss", ErrMalformed, ts)
	}
	req.NotifyURL, _ = single(params, "notify_url")
	req.ReturnURL, _ = single(params, "return_url")

	raw, err := required(params, "biz_content")
	if err != nil {
		return nil, err
	}
	var biz bizContent
	if err := json.Unmarshal([]byte(raw), &biz); err != nil {
		return nil, fmt.Errorf("%w: biz_content: %v", ErrMalformed, err)
	}
	if !outTradeNoRE.MatchString(biz.OutTradeNo) {
		return nil, fmt.Errorf("%w: out_trade_no %q", ErrBadOrder, biz.OutTradeNo)
	}
	if err := checkAmount(biz.TotalAmount); err != nil {
		return nil, fmt.Errorf("order %s: %w", biz.OutTradeNo, err)
	}
	if n := utf8.RuneCountInString(biz.Subject); n == 0 || n > maxSubjectLen {
		return nil, fmt.Errorf("%w: order %s: subject of %d characters", ErrBadOrder, biz.OutTradeNo, n)
	}
	if biz.ProductCode != productCode {
		return nil, fmt.Errorf("%w: product_code %q, want %q", ErrBadOrder, biz.ProductCode, productCode)
	}
	if req.Timeout, err = parseTimeoutExpress(biz.TimeoutExpress); err != nil {
		return nil, err
	}
	req.OutTradeNo, req.TotalAmount, req.Subject = biz.OutTradeNo, biz.TotalAmount, biz.Subject
	return req, nil
}

// parseTimeoutExpress reads a timeout_express: minutes, hours or days; 0
// if empty.
func parseTimeoutExpress(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	m := timeoutExpressRE.FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("%w: timeout_express %q", ErrBadOrder, s)
	}
	n, _ := strconv.Atoi(m[1])
	d := time.Duration(n) * map[string]time.Duration{"m": time.Minute, "h": time.Hour, "d": 24 * time.Hour}[m[2]]
	if d > maxTimeout {
		return 0, fmt.Errorf("%w: timeout_express %q is over 15 days", ErrBadOrder, s)
	}
	return d, nil
}

// Notification returns the parameters of the asynchronous notification
// Alipay would post to req.NotifyURL once the buyer has paid req, as trade
// tradeNo, at now: trade_status TRADE_SUCCESS, the amounts, the times in
// Beijing time, a fund_bill_list, ... signed with PrivateKey over every
// parameter but sign and sign_type. Post them as a form (url.Values.Encode).
//
// It panics if PrivateKey cannot sign (nil or broken).
func (g *DevGateway) Notification(req *PageRequest, tradeNo string, now time.Time) url.Values {
	at := wireTime(now)
	id := sha256.Sum256([]byte(tradeNo + "|" + now.UTC().Format(time.RFC3339Nano)))
	fundBills, _ := json.Marshal([]struct {
		Amount      string `json:"amount"`
		FundChannel string `json:"fundChannel"`
	}{{req.TotalAmount, "ALIPAYACCOUNT"}})
	p := url.Values{}
	p.Set("notify_time", at)
	p.Set("notify_type", notifyTradeSync)
	p.Set("notify_id", hex.EncodeToString(id[:16]))
	p.Set("app_id", req.AppID)
	p.Set("auth_app_id", req.AppID)
	p.Set("charset", charsetUTF8)
	p.Set("version", apiVersion)
	p.Set("sign_type", signTypeRSA2)
	p.Set("trade_no", tradeNo)
	p.Set("out_trade_no", req.OutTradeNo)
	p.Set("buyer_id", devBuyerID)
	p.Set("seller_id", devSellerID)
	p.Set("total_amount", req.TotalAmount)
	p.Set("receipt_amount", req.TotalAmount)
	p.Set("invoice_amount", req.TotalAmount)
	p.Set("buyer_pay_amount", req.TotalAmount)
	p.Set("point_amount", "0.00")
	p.Set("subject", req.Subject)
	p.Set("trade_status", TradeSuccess)
	p.Set("gmt_create", at)
	p.Set("gmt_payment", at)
	p.Set("fund_bill_list", string(fundBills))
	g.sign(p)
	return p
}

// ReturnParams returns the parameters Alipay would add to req.ReturnURL
// when it sends the buyer's browser back after paying req as trade
// tradeNo, at now: method alipay.trade.page.pay.return, the order, the
// amount, the timestamp, ... signed with PrivateKey over every parameter
// but sign and sign_type. Add them as the return URL's query
// (url.Values.Encode).
//
// It panics if PrivateKey cannot sign (nil or broken).
func (g *DevGateway) ReturnParams(req *PageRequest, tradeNo string, now time.Time) url.Values {
	p := url.Values{}
	p.Set("charset", charsetUTF8)
	p.Set("out_trade_no", req.OutTradeNo)
	p.Set("method", methodReturn)
	p.Set("total_amount", req.TotalAmount)
	p.Set("trade_no", tradeNo)
	p.Set("auth_app_id", req.AppID)
	p.Set("version", apiVersion)
	p.Set("app_id", req.AppID)
	p.Set("sign_type", signTypeRSA2)
	p.Set("seller_id", devSellerID)
	p.Set("timestamp", wireTime(now))
	g.sign(p)
	return p
}

// sign signs what Alipay sends: over every parameter but sign and
// sign_type.
func (g *DevGateway) sign(p url.Values) {
	if g.PrivateKey == nil {
		panic("alipay development gateway without PrivateKey")
	}
	content, err := canonical(p, "sign", "sign_type")
	if err != nil {
		panic(err) // p was built with Set: one value each
	}
	sign, err := signString(g.PrivateKey, content)
	if err != nil {
		panic(fmt.Sprintf("alipay development gateway cannot sign: %v", err))
	}
	p.Set("sign", sign)
}
