package handlers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/shopspring/decimal"

	"github.com/meiduo/shop/internal/alipay"
	"github.com/meiduo/shop/models"
	"github.com/meiduo/shop/models/order"
	"github.com/meiduo/shop/templates"
)

// Payment through Alipay's page pay (internal/alipay): the shop signs a
// URL of Alipay's cashier (Payment), Alipay posts a signed notification
// (PaymentNotify) and sends the buyer back with signed parameters
// (PaymentReturn); both record the payment through the same idempotent
// order.RecordPayment. The development gateway (DevGatewayPage,
// DevGatewayPay) stands in for Alipay with the same protocol.

// paymentTimeout bounds recording one payment.
const paymentTimeout = 5 * time.Second

// Payment answers {code:0, errmsg:"OK", alipay_url} for the user's unpaid
// online order: the URL of Alipay's cashier, signed, taking payment no
// longer than the order stays unpaid. Someone else's or an unknown order
// is 404; an order that is not awaiting online payment, or about to
// expire, is a refusal (code 400).
func (h *Handlers) Payment(c *gin.Context) {
	asJSON(c)
	u := currentUser(c)
	if h.Alipay == nil {
		h.fail(c, reject("payment.off"))
		return
	}
	id := c.Param("order_id")
	if id == "" || len(id) > models.MaxOrderIDLen {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	o, err := h.Orders.OrderOf(c.Request.Context(), u.ID, id)
	if err != nil {
		h.fail(c, err)
		return
	}
	if o.PayMethod != models.PayOnline || o.Status != models.StatusUnpaid {
		h.fail(c, reject("payment.not_unpaid"))
		return
	}
	// Alipay must stop taking the payment before the shop expires the
	// order, or the buyer pays for an order that is gone.
	left := h.UnpaidExpiry - h.Now().Sub(o.CreateTime)
	if left < time.Minute {
		h.fail(c, reject("payment.expiring"))
		return
	}
	payURL, err := h.Alipay.PagePayURL(alipay.PageOrder{
		OutTradeNo:  o.OrderID,
		TotalAmount: o.TotalAmount.StringFixed(2),
		Subject:     templates.Tf(templates.Chinese, "payment.subject", o.OrderID),
		Timeout:     left,
	})
	if err != nil {
		h.fail(c, fmt.Errorf("page pay URL of order %s: %w", o.OrderID, err))
		return
	}
	ok(c, gin.H{"alipay_url": payURL})
}

// asJSON makes fail answer JSON: the request is to a JSON endpoint,
// whatever its headers say.
func asJSON(c *gin.Context) { c.Request.Header.Set("Accept", "application/json") }

// PaymentNotify takes Alipay's asynchronous notification: a form POST
// with no session and no CSRF token (web exempts this one path). It
// answers the plain text "success" once the payment is recorded, or was
// already, and "fail" otherwise, so that Alipay sends it again.
func (h *Handlers) PaymentNotify(c *gin.Context) {
	answer := "fail"
	defer func() { c.String(http.StatusOK, answer) }()
	if h.Alipay == nil {
		h.Log.Warn("Alipay notification while online payment is off")
		return
	}
	if err := c.Request.ParseForm(); err != nil {
		h.Log.Warn("Alipay notification unreadable", "err", err)
		return
	}
	n, err := h.Alipay.ParseNotification(c.Request.PostForm)
	if err != nil {
		h.Log.Warn("Alipay notification refused", "err", err)
		return
	}
	if !n.Paid() {
		h.Log.Info("Alipay notification of an unpaid trade", "order", n.OutTradeNo, "trade", n.TradeNo, "status", n.TradeStatus)
		return
	}
	if _, err := h.recordPayment(c.Request.Context(), n, "notification"); err == nil {
		answer = "success"
	}
}

// PaymentReturn is where Alipay sends the buyer back after paying: it
// checks the signed parameters, records the payment as the notification
// does (whichever comes first), and shows the result with a link to the
// order.
func (h *Handlers) PaymentReturn(c *gin.Context) {
	v := templates.PaymentResultView{Page: h.page(c, templates.T(lang(c), "payment.result.title"))}
	status := http.StatusOK
	if h.Alipay == nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	n, err := h.Alipay.ParseReturn(c.Request.URL.Query())
	if err != nil {
		h.Log.Warn("Alipay return refused", "err", err)
		v.Outcome, status = templates.PaymentInvalid, http.StatusBadRequest
		h.render(c, status, templates.PaymentResult(v))
		return
	}
	v.OrderID, v.Amount = n.OutTradeNo, n.TotalAmount
	out, err := h.recordPayment(c.Request.Context(), n, "return")
	switch {
	case err == nil && out == order.ToRefund:
		v.Outcome = templates.PaymentRefund
	case err == nil:
		v.Outcome = templates.PaymentPaid
	case errors.Is(err, models.ErrBusy), unavailable(err):
		h.fail(c, err)
		return
	default:
		v.Outcome, status = templates.PaymentInvalid, http.StatusBadRequest
	}
	h.render(c, status, templates.PaymentResult(v))
}

// recordPayment records what Alipay says was paid. Refusals are logged:
// a valid signature with a wrong amount or order is worth a look.
func (h *Handlers) recordPayment(ctx context.Context, n *alipay.Notification, via string) (order.PayOutcome, error) {
	amount, err := decimal.NewFromString(n.TotalAmount)
	if err != nil { // ParseNotification checked the form already
		return 0, fmt.Errorf("amount %q: %w", n.TotalAmount, err)
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), paymentTimeout)
	defer cancel()
	out, err := h.Orders.RecordPayment(ctx, order.Payment{OrderID: n.OutTradeNo, TradeID: n.TradeNo, Amount: amount})
	switch {
	case errors.Is(err, models.ErrBusy), unavailable(err):
		h.Log.Error("payment not recorded", "via", via, "order", n.OutTradeNo, "trade", n.TradeNo, "err", err)
	case err != nil:
		h.Log.Warn("payment refused", "via", via, "order", n.OutTradeNo, "trade", n.TradeNo, "amount", n.TotalAmount, "err", err)
	case out == order.ToRefund:
		h.Log.Warn("payment for a canceled order: recorded, to refund", "via", via, "order", n.OutTradeNo, "trade", n.TradeNo, "amount", n.TotalAmount)
	case out == order.PaidNow:
		h.Log.Info("order paid", "via", via, "order", n.OutTradeNo, "trade", n.TradeNo)
	}
	return out, err
}

// DevGatewayPage is the development gateway's cashier: it checks the
// page-pay request as Alipay does and shows "支付 ¥x" with pay and cancel
// buttons. 404 unless the development gateway is on.
func (h *Handlers) DevGatewayPage(c *gin.Context) {
	if h.DevGateway == nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	req, err := h.DevGateway.CheckRequest(c.Request.URL.Query())
	if err != nil {
		h.fail(c, badField("request", err.Error()))
		return
	}
	h.render(c, http.StatusOK, templates.DevGateway(templates.DevGatewayView{
		Page:    h.page(c, templates.T(lang(c), "payment.dev.title")),
		OrderID: req.OutTradeNo, Amount: req.TotalAmount, Subject: req.Subject,
		Request: c.Request.URL.RawQuery,
	}))
}

// DevGatewayPay pays a request as Alipay would: it posts the signed
// notification to the request's notify_url (a call from the server to
// itself), then sends the browser to its return_url with signed return
// parameters. The shop reads both with the same code as Alipay's.
func (h *Handlers) DevGatewayPay(c *gin.Context) {
	if h.DevGateway == nil {
		h.fail(c, &statusError{Status: http.StatusNotFound})
		return
	}
	params, err := url.ParseQuery(c.PostForm("request"))
	if err != nil {
		h.fail(c, badField("request", "err.field.type"))
		return
	}
	req, err := h.DevGateway.CheckRequest(params)
	if err != nil {
		h.fail(c, badField("request", err.Error()))
		return
	}
	now := h.Now()
	trade := devTradeNo(now)
	if req.NotifyURL != "" {
		if err := h.devNotify(c.Request.Context(), req.NotifyURL, h.DevGateway.Notification(req, trade, now)); err != nil {
			h.fail(c, err)
			return
		}
	}
	to := "/"
	if req.ReturnURL != "" {
		sep := "?"
		if strings.Contains(req.ReturnURL, "?") {
			sep = "&"
		}
		to = req.ReturnURL + sep + h.DevGateway.ReturnParams(req, trade, now).Encode()
	}
	c.Redirect(http.StatusFound, to)
}

// devNotify posts a notification and wants "success" back.
func (h *Handlers) devNotify(ctx context.Context, notifyURL string, form url.Values) error {
	r, err := http.NewRequestWithContext(ctx, http.MethodPost, notifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return fmt.Errorf("development gateway: notify_url %q: %w", notifyURL, err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := h.DevHTTP.Do(r)
	if err != nil {
		return &gatewayError{fmt.Errorf("development gateway: notify %s: %w", notifyURL, err)}
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 1024))
	if strings.TrimSpace(string(body)) != "success" {
		return &gatewayError{fmt.Errorf("development gateway: %s answered %d %q, not success", notifyURL, res.StatusCode, body)}
	}
	return nil
}

// gatewayError is the shop failing to take the development gateway's
// notification: 503, as a dependency would.
type gatewayError struct{ error }

func (e *gatewayError) Unwrap() error { return models.ErrBusy }

// devTradeNo makes a trade number shaped like Alipay's: the date and 20
// random digits.
func devTradeNo(now time.Time) string {
	n, _ := rand.Int(rand.Reader, new(big.Int).Exp(big.NewInt(10), big.NewInt(20), nil))
	return fmt.Sprintf("%s%020s", now.Format("20060102"), n.String())
}
