package alipay

import (
	"errors"
	"fmt"
	"net/url"
	"time"
)

// Notification is what Alipay says about one payment, read from a
// notification (ParseNotification) or a return (ParseReturn) whose
// signature and app_id were checked.
//
// Whether OutTradeNo is an order of the shop, and TotalAmount its amount,
// is for the caller to check against the database, as is what to do with
// a payment for an order the shop has meanwhile expired or cancelled.
type Notification struct {
	AppID       string
	OutTradeNo  string    // the shop's order id
	TradeNo     string    // Alipay's trade number
	TotalAmount string    // yuan with two decimals, as in the order
	TradeStatus string    // TradeSuccess, ...; empty for a return
	PaidAt      time.Time // gmt_payment; zero when absent, always for a return
}

// Paid reports whether the notification says the trade is paid:
// TRADE_SUCCESS or TRADE_FINISHED. A return has no trade status, so Paid
// is false for it; see ParseReturn.
func (n *Notification) Paid() bool {
	return n.TradeStatus == TradeSuccess || n.TradeStatus == TradeFinished
}

// Verify checks the signature of parameters Alipay sent, with the client's
// AlipayPublicKey: RSA2 over every parameter received but sign and
// sign_type (extra ones such as fund_bill_list included), empty ones left
// out. sign_type, when present, must be RSA2. Nothing else is checked.
//
// Returns ErrNoSignature, ErrSignType, ErrMalformed (a parameter given
// twice) or ErrBadSignature. A sign with a space in it is a '+' that was
// decoded twice (or never encoded): it is refused, not repaired.
func (c *Client) Verify(params url.Values) error {
	if c.AlipayPublicKey == nil {
		return errors.New("alipay client without AlipayPublicKey")
	}
	return verifyParams(c.AlipayPublicKey, params)
}

// ParseNotification reads Alipay's asynchronous notification, the form
// posted to NotifyURL (pass r.PostForm). It verifies the signature, checks
// that app_id is the client's, and reads out_trade_no, trade_no,
// total_amount, trade_status and gmt_payment (when present).
//
// The caller answers the plain text "success" once it has recorded the
// payment, or found it recorded already. Until then Alipay sends the
// notification again, for about a day: recording must be idempotent.
//
// Returns the errors of Verify, ErrWrongApp, ErrBadAmount, or
// ErrMalformed for a required parameter missing or unreadable.
func (c *Client) ParseNotification(params url.Values) (*Notification, error) {
	n, err := c.parse(params)
	if err != nil {
		return nil, fmt.Errorf("alipay notification: %w", err)
	}
	if n.TradeStatus, err = required(params, "trade_status"); err != nil {
		return nil, fmt.Errorf("alipay notification for order %s: %w", n.OutTradeNo, err)
	}
	if n.PaidAt, err = optionalTime(params, "gmt_payment"); err != nil {
		return nil, fmt.Errorf("alipay notification for order %s: %w", n.OutTradeNo, err)
	}
	return n, nil
}

// optionalTime reads a time parameter; zero if absent.
func optionalTime(params url.Values, name string) (time.Time, error) {
	v, err := single(params, name)
	if err != nil || v == "" {
		return time.Time{}, err
	}
	t, err := parseWireTime(v)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: %s %q is not yyyy-MM-dd HH:mm:ss", ErrMalformed, name, v)
	}
	return t, nil
}

// ParseReturn reads the parameters Alipay adds to ReturnURL when it sends
// the buyer's browser back (pass r.URL.Query()). It verifies the signature,
// checks that app_id is the client's and method is
// alipay.trade.page.pay.return, and reads out_trade_no, trade_no and
// total_amount.
//
// Alipay sends the browser back only after a payment, and signs what it
// adds, so a return that parses means paid as far as Alipay told the
// browser, though TradeStatus is empty and Paid is false: the caller
// applies the same idempotent transition as for a notification. The
// notification may come before or after.
//
// Returns the errors of Verify, ErrWrongApp, ErrBadAmount, or
// ErrMalformed for a required parameter missing or unreadable, or another
// method.
func (c *Client) ParseReturn(params url.Values) (*Notification, error) {
	n, err := c.parse(params)
	if err != nil {
		return nil, fmt.Errorf("alipay return: %w", err)
	}
	if m, _ := single(params, "method"); m != methodReturn {
		return nil, fmt.Errorf("alipay return for order %s: %w: method %q, want %q", n.OutTradeNo, ErrMalformed, m, methodReturn)
	}
	return n, nil
}

// parse verifies params and reads what notifications and returns share.
func (c *Client) parse(params url.Values) (*Notification, error) {
	if err := c.Verify(params); err != nil {
		return nil, err
	}
	app, err := required(params, "app_id")
	if err != nil {
		return nil, err
	}
	if app != c.AppID {
		return nil, fmt.Errorf("%w: %q", ErrWrongApp, app)
	}
	n := &Notification{AppID: app}
	if n.OutTradeNo, err = required(params, "out_trade_no"); err != nil {
		return nil, err
	}
	if n.TradeNo, err = required(params, "trade_no"); err != nil {
		return nil, err
	}
	if n.TotalAmount, err = required(params, "total_amount"); err != nil {
		return nil, err
	}
	if err := checkAmount(n.TotalAmount); err != nil {
		return nil, fmt.Errorf("total_amount of order %s: %w", n.OutTradeNo, err)
	}
	return n, nil
}
