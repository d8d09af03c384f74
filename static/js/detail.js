// detail.js: the product page. The gallery's thumbnails switch the main
// picture; the quantity stepper's − and + change the number within
// 1..max; the add-to-cart form posts {sku_id, count} to POST /carts/ and
// refreshes the header's cart badge from GET /carts/simple/; 立即购买
// makes this line the cart's only selected one and opens the settlement
// page. Texts come from data-* attributes set by the server.
"use strict";

(function () {
  // Gallery: without this script the first picture shows, and a
  // thumbnail is a link to its picture.
  const main = document.getElementById("gallery-main");
  const thumbs = Array.from(document.querySelectorAll(".gallery-thumb"));
  for (const t of thumbs) {
    t.addEventListener("click", function (event) {
      event.preventDefault();
      main.src = t.dataset.src;
      for (const o of thumbs) o.removeAttribute("aria-current");
      t.setAttribute("aria-current", "true");
    });
  }

  // The flash-sale banner's countdown, on the server's clock; the text
  // the server wrote ("还剩 01:02:03") keeps its words, the time ticks.
  const countdown = document.querySelector(".sale-banner .countdown");
  if (countdown) {
    const until = Number(countdown.dataset.until);
    const skew = Number(countdown.dataset.now) - Date.now();
    const pattern = /(\d+d )?\d\d:\d\d:\d\d/;
    const pad = function (n) { return String(n).padStart(2, "0"); };
    const tick = function () {
      const s = Math.max(0, Math.floor((until - Date.now() - skew) / 1000));
      const days = Math.floor(s / 86400);
      const hms = pad(Math.floor(s / 3600) % 24) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
      countdown.textContent = countdown.textContent.replace(pattern, (days > 0 ? days + "d " : "") + hms);
      if (s === 0) clearInterval(timer);
    };
    const timer = setInterval(tick, 1000);
  }

  const form = document.getElementById("buy-box");
  if (!form) return;
  const input = document.getElementById("quantity");
  const button = document.getElementById("add-to-cart");
  const buyNow = document.getElementById("buy-now");
  const minus = document.getElementById("qty-minus");
  const plus = document.getElementById("qty-plus");
  const skuId = Number(form.dataset.skuId);
  const max = Number(form.dataset.max);

  // readCount returns the quantity as an integer in 1..max, or null.
  function readCount() {
    const text = input.value.trim();
    if (!/^\d+$/.test(text)) return null;
    const n = Number(text);
    return n >= 1 && n <= max ? n : null;
  }

  // Stepper: the buttons are disabled at the bounds, so the number never
  // leaves 1..max by them; typing is checked on submit.
  function syncStepper() {
    const n = readCount();
    minus.disabled = input.disabled || n === null || n <= 1;
    plus.disabled = input.disabled || (n !== null && n >= max);
  }
  function step(by) {
    const n = readCount() || 1;
    input.value = String(Math.min(max, Math.max(1, n + by)));
    input.removeAttribute("aria-invalid");
    syncStepper();
  }
  minus.addEventListener("click", function () { step(-1); });
  plus.addEventListener("click", function () { step(1); });
  input.addEventListener("input", syncStepper);
  syncStepper();

  async function refreshBadge() {
    const res = await shopFetch("GET", "/carts/simple/");
    const badge = document.getElementById("cart-count");
    if (!badge || !res.body || res.body.code !== 0 || !Array.isArray(res.body.cart_skus)) return;
    const total = res.body.cart_skus.reduce((sum, line) => sum + (Number(line.count) || 0), 0);
    badge.textContent = String(total);
  }

  // countOrComplain returns the count, or shows why it is wrong and null.
  function countOrComplain() {
    const count = readCount();
    if (count === null) {
      input.setAttribute("aria-invalid", "true");
      showMessage("cart-message", form.dataset.msgBadCount, true);
      input.focus();
      return null;
    }
    input.removeAttribute("aria-invalid");
    return count;
  }

  function complain(res) {
    if (res.status !== 401) {
      showMessage("cart-message", (res.body && res.body.errmsg) || ("HTTP " + res.status), true);
    }
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    const count = countOrComplain();
    if (count === null) return;
    button.disabled = true;
    try {
      const res = await shopFetch("POST", "/carts/", { sku_id: skuId, count: count });
      if (res.body && res.body.code === 0) {
        showMessage("cart-message", form.dataset.msgAdded, false);
        await refreshBadge();
      } else {
        complain(res);
      }
    } finally {
      button.disabled = false;
    }
  });

  // Buy now: the settlement page and the order commit take the cart's
  // selected lines, so this line becomes the only selected one, at the
  // chosen quantity; the other lines stay in the cart, unselected.
  if (buyNow) {
    buyNow.addEventListener("click", async function () {
      const count = countOrComplain();
      if (count === null) return;
      buyNow.disabled = true;
      try {
        let res = await shopFetch("PUT", "/carts/selection/", { selected: false });
        if (res.body && res.body.code === 0) {
          res = await shopFetch("PUT", "/carts/", { sku_id: skuId, count: count, selected: true });
        }
        if (res.body && res.body.code === 0) {
          window.location.assign("/orders/settlement/");
          return;
        }
        complain(res);
      } finally {
        buyNow.disabled = false;
      }
    });
  }
})();
