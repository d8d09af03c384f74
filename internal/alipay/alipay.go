// Package alipay speaks Alipay's computer-website payment (电脑网站支付,
// alipay.trade.page.pay) in public-key mode with RSA2 signatures, for the
// shop's payment pages.
//
// It uses the standard library only. The usual SDKs
// (github.com/smartwalle/alipay/v3, github.com/go-pay/gopay) are refused by
// the module proxy this project builds with, and the part of the protocol
// the shop needs is small: sign a redirect URL, verify what comes back.
// It imports no other package of this repository.
//
// The flow, one file per step:
//
//	keys.go          ParsePrivateKey, ParsePublicKey: the configured keys
//	sign.go          the canonical string, RSA2 signing and verifying
//	client.go        Client.PagePayURL: where the buyer's browser goes to pay
//	notification.go  Client.ParseNotification (POST from Alipay) and
//	                 Client.ParseReturn (the browser coming back)
//	devkeys.go       LoadOrCreateDevKeys: key pairs for the development gateway
//	devgateway.go    DevGateway: the logic of a fake gateway that speaks
//	                 the same protocol, for development and tests
//
// Parameters arrive as url.Values decoded exactly once: pass r.PostForm for a
// notification and r.URL.Query() for a return, never a string unescaped a
// second time. A base64 sign holds '+', which a second decoding turns into a
// space, and the signature then fails (see ErrBadSignature).
//
// Times on the wire (timestamp, gmt_payment, ...) are Beijing time, UTC+8.
package alipay

import (
	"errors"
	"time"
)

// Gateways. A Client with an empty Gateway uses DefaultGateway.
const (
	DefaultGateway = "https://openapi.alipay.com/gateway.do"
	SandboxGateway = "https://openapi-sandbox.dl.alipaydev.com/gateway.do"
)

// Sentinel errors. Functions wrap them with what was wrong; test with
// errors.Is.
var (
	// ErrBadKey: a key that cannot be read, or is not the kind asked for.
	ErrBadKey = errors.New("bad Alipay key")
	// ErrWeakKey: an RSA key shorter than 2048 bits.
	ErrWeakKey = errors.New("RSA key shorter than 2048 bits")
	// ErrNoSignature: the parameters have no sign.
	ErrNoSignature = errors.New("no Alipay signature")
	// ErrSignType: sign_type is not RSA2.
	ErrSignType = errors.New("sign_type is not RSA2")
	// ErrBadSignature: the sign does not verify (or is not base64, which
	// is what a '+' decoded into a space looks like).
	ErrBadSignature = errors.New("bad Alipay signature")
	// ErrWrongApp: the app_id is not this shop's.
	ErrWrongApp = errors.New("app_id is not this shop's")
	// ErrBadAmount: an amount that is not digits with exactly two decimals,
	// between 0.01 and 100000000.00.
	ErrBadAmount = errors.New("bad amount")
	// ErrBadOrder: a PageOrder that Alipay would refuse.
	ErrBadOrder = errors.New("bad order for Alipay")
	// ErrMalformed: a parameter missing, repeated or unreadable, or the
	// wrong method.
	ErrMalformed = errors.New("malformed Alipay parameters")
)

// Trade statuses (trade_status) of a notification.
const (
	TradeWaitBuyerPay = "WAIT_BUYER_PAY"
	TradeClosed       = "TRADE_CLOSED"
	TradeSuccess      = "TRADE_SUCCESS"
	TradeFinished     = "TRADE_FINISHED"
)

// Protocol constants.
const (
	methodPagePay   = "alipay.trade.page.pay"
	methodReturn    = "alipay.trade.page.pay.return"
	productCode     = "FAST_INSTANT_TRADE_PAY"
	signTypeRSA2    = "RSA2"
	charsetUTF8     = "utf-8"
	apiVersion      = "1.0"
	wireTimeLayout  = "2006-01-02 15:04:05"
	notifyTradeSync = "trade_status_sync"
)

// beijing is UTC+8 without tzdata: China has had no daylight saving time
// since 1991.
var beijing = time.FixedZone("CST", 8*60*60)

// wireTime formats t as Alipay writes times.
func wireTime(t time.Time) string { return t.In(beijing).Format(wireTimeLayout) }

// parseWireTime reads a time as Alipay writes it.
func parseWireTime(s string) (time.Time, error) {
	return time.ParseInLocation(wireTimeLayout, s, beijing)
}
