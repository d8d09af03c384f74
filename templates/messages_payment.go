package templates

var paymentMessages = map[string][2]string{
	// GET /payment/<order_id>/ and the buttons that call it.
	"payment.off":        {"在线支付暂不可用", "Online payment is not available"},
	"payment.not_unpaid": {"该订单不是待支付的在线支付订单", "This order is not awaiting online payment"},
	"payment.expiring":   {"订单即将超时取消，无法支付", "This order is about to expire and can no longer be paid"},
	"payment.subject":    {"美多商城订单 %s", "Meiduo Mall order %s"},
	"payment.pay":        {"去支付", "Pay now"},
	"payment.paying":     {"正在前往支付宝…", "Going to Alipay…"},
	"payment.network":    {"网络错误，请重试", "Network error, please try again"},

	// GET /payment/status/.
	"payment.result.title": {"支付结果", "Payment result"},
	"payment.paid":         {"支付成功，我们将尽快为您发货。", "Paid. We ship your order soon."},
	"payment.refund":       {"订单已取消，您的付款将原路退回。", "The order was canceled; your payment will be refunded."},
	"payment.invalid":      {"无法确认这笔支付。如已付款，请稍后在“我的订单”中查看。", "This payment could not be confirmed. If you paid, check My orders shortly."},
	"payment.order":        {"订单号", "Order"},
	"payment.amount":       {"支付金额", "Amount paid"},

	// The buyer's moves of an order.
	"order.wrong_status": {"订单当前状态不允许此操作", "Not possible in the order's present status"},
	"order.cancel":       {"取消订单", "Cancel order"},
	"order.cancel_ask":   {"确定取消该订单吗？", "Cancel this order?"},
	"order.receive":      {"确认收货", "Confirm receipt"},

	// The staff's order page.
	"admin.order.payments":      {"支付记录", "Payments"},
	"admin.order.no_payments":   {"没有支付记录", "No payment"},
	"admin.order.trade":         {"支付宝交易号", "Alipay trade"},
	"admin.order.to_refund":     {"待退款（订单已取消）", "To refund (order canceled)"},
	"admin.order.applied":       {"已入账", "Applied"},
	"admin.order.events":        {"订单记录", "History"},
	"admin.order.placed":        {"下单", "Placed"},
	"admin.order.by_shop":       {"系统", "the shop"},
	"admin.order.why.paid":      {"已支付", "paid"},
	"admin.order.why.canceled":  {"取消", "canceled"},
	"admin.order.why.expired":   {"超时未支付", "expired unpaid"},
	"admin.order.why.shipped":   {"发货", "shipped"},
	"admin.order.why.received":  {"确认收货", "received"},
	"admin.order.why.completed": {"完成", "completed"},

	// The development gateway, /dev/alipay/gateway.do.
	"payment.dev.title":  {"支付宝（开发网关）", "Alipay (development gateway)"},
	"payment.dev.note":   {"这是商城内置的开发用支付网关，不会真实扣款。", "This is the shop's built-in development gateway; no money moves."},
	"payment.dev.pay":    {"支付 ¥%s", "Pay ¥%s"},
	"payment.dev.cancel": {"取消", "Cancel"},
}
