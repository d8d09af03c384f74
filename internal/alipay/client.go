package alipay

import (
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Client is the shop's side of Alipay's protocol for one app. Fill in its
// fields once at start-up; its methods only read them, so one Client may
// serve concurrent requests.
type Client struct {
	// AppID is the shop's app id on Alipay's open platform.
	AppID string
	// PrivateKey signs requests (应用私钥); see ParsePrivateKey.
	PrivateKey *rsa.PrivateKey
	// AlipayPublicKey verifies notifications and returns (支付宝公钥); see
	// ParsePublicKey.
	AlipayPublicKey *rsa.PublicKey
	// Gateway is Alipay's gateway URL; empty means DefaultGateway.
	// SandboxGateway is Alipay's sandbox.
	Gateway string
	// NotifyURL receives Alipay's asynchronous notification (a form POST).
	NotifyURL string
	// ReturnURL is where Alipay sends the buyer's browser after paying.
	ReturnURL string
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// PageOrder is one order to pay through alipay.trade.page.pay.
type PageOrder struct {
	// OutTradeNo is the shop's order id: 1 to 64 letters, digits or '_'.
	OutTradeNo string
	// TotalAmount is in yuan with exactly two decimals, such as "1999.00",
	// from 0.01 to 100000000.00.
	TotalAmount string
	// Subject is the title the buyer sees: 1 to 256 characters.
	Subject string
	// Timeout is how long Alipay takes payment, sent as timeout_express in
	// whole minutes, rounded down: from 1 minute to 15 days. Give no more
	// than the time the shop keeps the order unpaid.
	Timeout time.Duration
}

var (
	amountRE     = regexp.MustCompile(`^\d+\.\d{2}$`)
	outTradeNoRE = regexp.MustCompile(`^[A-Za-z0-9_]{1,64}$`)
)

const (
	maxAmountCents = 100000000_00
	maxTimeout     = 15 * 24 * time.Hour
	maxSubjectLen  = 256
)

// bizContent is the JSON of a page-pay request's biz_content.
type bizContent struct {
	OutTradeNo     string `json:"out_trade_no"`
	TotalAmount    string `json:"total_amount"`
	Subject        string `json:"subject"`
	ProductCode    string `json:"product_code"`
	TimeoutExpress string `json:"timeout_express,omitempty"`
}

// PagePayURL returns the URL of Alipay's cashier page for o, signed with
// the client's private key. Redirect the buyer's browser to it. It sends
// nothing: the order is created at Alipay when the browser arrives.
//
// Returns ErrBadAmount for a TotalAmount not of the form "1999.00" or out
// of range, ErrBadOrder for another field Alipay would refuse, or an
// error naming a Client field that is missing.
func (c *Client) PagePayURL(o PageOrder) (string, error) {
	if c.AppID == "" || c.PrivateKey == nil {
		return "", errors.New("alipay client without AppID or PrivateKey")
	}
	biz, err := o.bizContent()
	if err != nil {
		return "", err
	}
	bizJSON, err := json.Marshal(biz)
	if err != nil {
		return "", fmt.Errorf("encode biz_content: %w", err)
	}
	p := url.Values{}
	p.Set("app_id", c.AppID)
	p.Set("method", methodPagePay)
	p.Set("format", "JSON")
	p.Set("charset", charsetUTF8)
	p.Set("sign_type", signTypeRSA2)
	p.Set("timestamp", wireTime(c.now()))
	p.Set("version", apiVersion)
	if c.NotifyURL != "" {
		p.Set("notify_url", c.NotifyURL)
	}
	if c.ReturnURL != "" {
		p.Set("return_url", c.ReturnURL)
	}
	p.Set("biz_content", string(bizJSON))
	if err := signParams(c.PrivateKey, p); err != nil {
		return "", fmt.Errorf("sign page pay of order %s: %w", o.OutTradeNo, err)
	}
	gw := c.Gateway
	if gw == "" {
		gw = DefaultGateway
	}
	sep := "?"
	if strings.Contains(gw, "?") {
		sep = "&"
	}
	return gw + sep + p.Encode(), nil
}

func (o PageOrder) bizContent() (bizContent, error) {
	if !outTradeNoRE.MatchString(o.OutTradeNo) {
		return bizContent{}, fmt.Errorf("%w: out_trade_no %q is not 1 to 64 letters, digits or '_'", ErrBadOrder, o.OutTradeNo)
	}
	if err := checkAmount(o.TotalAmount); err != nil {
		return bizContent{}, fmt.Errorf("order %s: %w", o.OutTradeNo, err)
	}
	if n := utf8.RuneCountInString(o.Subject); n == 0 || n > maxSubjectLen || !utf8.ValidString(o.Subject) {
		return bizContent{}, fmt.Errorf("%w: order %s: subject must be 1 to %d characters of UTF-8", ErrBadOrder, o.OutTradeNo, maxSubjectLen)
	}
	if o.Timeout < time.Minute || o.Timeout > maxTimeout {
		return bizContent{}, fmt.Errorf("%w: order %s: timeout %v is not between 1m and 15 days", ErrBadOrder, o.OutTradeNo, o.Timeout)
	}
	return bizContent{
		OutTradeNo:     o.OutTradeNo,
		TotalAmount:    o.TotalAmount,
		Subject:        o.Subject,
		ProductCode:    productCode,
		TimeoutExpress: strconv.FormatInt(int64(o.Timeout/time.Minute), 10) + "m",
	}, nil
}

// checkAmount returns ErrBadAmount unless s is digits with exactly two
// decimals, from 0.01 to 100000000.00.
func checkAmount(s string) error {
	if !amountRE.MatchString(s) {
		return fmt.Errorf("%w: %q is not digits with two decimals", ErrBadAmount, s)
	}
	cents, err := strconv.ParseUint(strings.Replace(s, ".", "", 1), 10, 64)
	if err != nil || cents == 0 || cents > maxAmountCents {
		return fmt.Errorf("%w: %q is not between 0.01 and 100000000.00", ErrBadAmount, s)
	}
	return nil
}

func (c *Client) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}
