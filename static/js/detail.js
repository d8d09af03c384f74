// detail.js: the product page's add-to-cart form. It posts {sku_id, count}
// to POST /carts/ and, on success, refreshes the header's cart badge from
// GET /carts/simple/. Texts come from data-* attributes set by the server.
"use strict";

(function () {
  const form = document.getElementById("buy-box");
  if (!form) return;
  const input = document.getElementById("quantity");
  const button = document.getElementById("add-to-cart");
  const skuId = Number(form.dataset.skuId);
  const max = Number(form.dataset.max);

  // readCount returns the quantity as an integer in 1..max, or null.
  function readCount() {
    const text = input.value.trim();
    if (!/^\d+$/.test(text)) return null;
    const n = Number(text);
    return n >= 1 && n <= max ? n : null;
  }

  async function refreshBadge() {
    const res = await shopFetch("GET", "/carts/simple/");
    const badge = document.getElementById("cart-count");
    if (!badge || !res.body || res.body.code !== 0 || !Array.isArray(res.body.cart_skus)) return;
    const total = res.body.cart_skus.reduce((sum, line) => sum + (Number(line.count) || 0), 0);
    badge.textContent = String(total);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const count = readCount();
    if (count === null) {
      input.setAttribute("aria-invalid", "true");
      showMessage("cart-message", form.dataset.msgBadCount, true);
      input.focus();
      return;
    }
    input.removeAttribute("aria-invalid");
    button.disabled = true;
    try {
      const res = await shopFetch("POST", "/carts/", { sku_id: skuId, count: count });
      if (res.body && res.body.code === 0) {
        showMessage("cart-message", form.dataset.msgAdded, false);
        await refreshBadge();
      } else if (res.status !== 401) {
        showMessage("cart-message", (res.body && res.body.errmsg) || ("HTTP " + res.status), true);
      }
    } finally {
      button.disabled = false;
    }
  });
})();
