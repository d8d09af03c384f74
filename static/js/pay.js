// pay.js drives the order buttons of the confirmation page and "my
// orders": pay (GET /payment/<id>/, then on to Alipay's cashier), cancel
// and confirm receipt (POST /orders/<id>/cancel/ and .../receive/, then
// the page again). A refusal is shown next to the button.
"use strict";

(function () {
  document.addEventListener("click", async function (ev) {
    const button = ev.target.closest("button[data-order-action]");
    if (!button || button.disabled) return;
    ev.preventDefault();
    const id = button.dataset.orderId;
    const action = button.dataset.orderAction;
    const question = button.dataset.confirm;
    if (question && !window.confirm(question)) return;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    const path = encodeURIComponent(id);
    const res = action === "pay"
      ? await shopFetch("GET", "/payment/" + path + "/")
      : await shopFetch("POST", "/orders/" + path + "/" + action + "/", {});
    if (res.body && res.body.code === 0) {
      if (action === "pay") {
        window.location.assign(res.body.alipay_url);
      } else {
        window.location.reload();
      }
      return;
    }
    button.disabled = false;
    button.removeAttribute("aria-busy");
    showMessage("order-msg-" + id, (res.body && res.body.errmsg) || button.dataset.msgNetwork, true);
  });
})();
