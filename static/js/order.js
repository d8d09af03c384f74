// order.js drives the checkout page (/orders/settlement/): the commit
// button posts the order as JSON, with the page's one-time token, and goes
// to the confirmation page; otherwise it says why, on the page. The button
// stays disabled while a commit is under way, so the shopper cannot send
// two; the token makes a second one harmless anyway.
"use strict";

(function () {
  const form = document.getElementById("order-form");
  const button = document.getElementById("commit-order");
  if (!form || !button) return;
  let busy = false;

  function fail(text) {
    showMessage("commit-error", text, true);
  }

  form.addEventListener("submit", async function (ev) {
    ev.preventDefault();
    if (busy || button.disabled) return;
    const address = form.querySelector('input[name="address_id"]:checked');
    const pay = form.querySelector('input[name="pay_method"]:checked');
    if (!address) {
      fail(form.dataset.msgAddress);
      return;
    }
    busy = true;
    const label = button.textContent;
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    button.textContent = form.dataset.msgSending;
    showMessage("commit-error", "", true);

    const res = await shopFetch("POST", "/orders/commit/", {
      address_id: Number(address.value),
      pay_method: Number(pay ? pay.value : 1),
      token: form.elements.token.value,
    });
    if (res.body && res.body.code === 0 && res.body.order_id) {
      // Leave the button disabled: the page is going away.
      window.location.assign("/orders/success/?order_id=" + encodeURIComponent(res.body.order_id));
      return;
    }
    fail((res.body && res.body.errmsg) || form.dataset.msgNetwork);
    busy = false;
    button.disabled = false;
    button.removeAttribute("aria-busy");
    button.textContent = label;
  });
})();
