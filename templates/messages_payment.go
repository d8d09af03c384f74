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
	"admin.order.payments":         {"支付记录", "Payments"},
	"admin.order.no_payments":      {"没有支付记录", "No payment"},
	"admin.order.trade":            {"支付宝交易号", "Alipay trade"},
	"admin.order.to_refund":        {"待退款（订单已取消）", "To refund (order canceled)"},
	"admin.order.applied":          {"已入账", "Applied"},
	"admin.order.events":           {"订单记录", "History"},
	"admin.order.placed":           {"下单", "Placed"},
	"admin.order.by_shop":          {"系统", "the shop"},
	"admin.order.why.paid":         {"已支付", "paid"},
	"admin.order.why.canceled":     {"取消", "canceled"},
	"admin.order.why.expired":      {"超时未支付", "expired unpaid"},
	"admin.order.why.shipped":      {"发货", "shipped"},
	"admin.order.why.received":     {"确认收货", "received"},
	"admin.order.why.completed":    {"完成", "completed"},
	"admin.order.why.paid_offline": {"线下收款", "paid offline"},
	"admin.order.why.refunded":     {"已退款", "refunded"},
	"admin.order.offline":          {"线下收款", "Offline payment"},
	"admin.order.refunded":         {"已退款", "Refunded"},
	"admin.order.paid_reason":      {"线下收款说明", "How it was paid"},
	"admin.order.mark_paid":        {"标记为已支付", "Mark paid"},

	// Staff's payments: mark paid and the refunds.
	"admin.nav.refunds":           {"待退款", "Refunds"},
	"admin.refunds.waiting":       {"待退款的支付", "Payments to refund"},
	"admin.refunds.done":          {"最近退款", "Recently refunded"},
	"admin.refunds.none":          {"没有待退款的支付", "Nothing to refund"},
	"admin.refunds.paid_at":       {"支付时间", "Paid"},
	"admin.refunds.refunded_at":   {"退款", "Refunded"},
	"admin.refunds.action":        {"操作", "Action"},
	"admin.refunds.note":          {"退款说明（可选）", "Note (optional)"},
	"admin.refunds.mark":          {"标记为已退款", "Mark refunded"},
	"admin.refunds.confirm":       {"确定已退款给买家吗？", "Has the buyer been refunded?"},
	"admin.flash.bad_reason":      {"请填写说明（不超过 200 字）", "Give a reason (at most 200 characters)"},
	"admin.flash.bad_reason_text": {"说明不能包含控制字符或文字方向控制符，也不能只有不可见字符", "The reason must not contain control characters or text-direction controls, nor only invisible characters"},
	"admin.flash.not_online":      {"货到付款的订单无需标记支付", "A cash-on-delivery order is not paid online"},
	"admin.flash.not_unpaid":      {"只有待支付的订单可以标记为已支付", "Only an unpaid order can be marked paid"},
	"admin.flash.marked_paid":     {"已标记为已支付，订单待发货", "Marked paid; the order awaits shipment"},
	"admin.flash.refunded":        {"已记录退款", "Refund recorded"},
	"admin.flash.refunded_before": {"该支付已退款过", "This payment was refunded already"},
	"admin.flash.no_refund":       {"该订单没有待退款的支付", "This order has no payment to refund"},

	// The development gateway, /dev/alipay/gateway.do.
	"payment.dev.title":  {"支付宝（开发网关）", "Alipay (development gateway)"},
	"payment.dev.note":   {"这是商城内置的开发用支付网关，不会真实扣款。", "This is the shop's built-in development gateway; no money moves."},
	"payment.dev.pay":    {"支付 ¥%s", "Pay ¥%s"},
	"payment.dev.cancel": {"取消", "Cancel"},
}
