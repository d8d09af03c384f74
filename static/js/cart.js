// cart.js drives the cart page (/carts/). Each change goes to the JSON
// endpoints; then #cart-section and the header badge are replaced by a
// fresh copy rendered by the server, so no price or total is ever computed
// here. Changes run one at a time, in the order the shopper made them.
"use strict";

(function () {
  const section = document.getElementById("cart-section");
  if (!section) return;

  let queue = Promise.resolve();

  function say(text, isError) {
    showMessage("cart-message", text, isError);
  }

  // enqueue runs task after the previous ones, then refreshes the cart.
  function enqueue(task) {
    queue = queue.then(async function () {
      section.setAttribute("aria-busy", "true");
      try {
        const res = await task();
        if (res && (!res.body || res.body.code !== 0)) {
          say(res.body && res.body.errmsg ? res.body.errmsg : section.dataset.msgNetwork, true);
        } else {
          say("", false);
        }
      } finally {
        await refresh();
        section.removeAttribute("aria-busy");
      }
    }).catch(function () {});
  }

  // refresh swaps in the server's current rendering of the cart, and puts
  // the keyboard focus back on the same control.
  async function refresh() {
    const focus = describeFocus();
    let html;
    try {
      const res = await fetch("/carts/", { credentials: "same-origin", headers: { "Accept": "text/html" } });
      if (!res.ok) throw new Error("status " + res.status);
      html = await res.text();
    } catch (e) {
      say(section.dataset.msgNetwork, true);
      return;
    }
    const doc = new DOMParser().parseFromString(html, "text/html");
    const fresh = doc.getElementById("cart-section");
    if (fresh) section.replaceChildren(...Array.from(fresh.childNodes, function (n) { return document.importNode(n, true); }));
    const badge = document.getElementById("cart-count");
    const freshBadge = doc.getElementById("cart-count");
    if (badge && freshBadge) badge.textContent = freshBadge.textContent;
    restoreFocus(focus);
  }

  function describeFocus() {
    const el = document.activeElement;
    if (!el || !section.contains(el)) return null;
    const line = el.closest('[data-testid="cart-line"]');
    return { sku: line ? line.dataset.skuId : null, testid: el.dataset.testid };
  }

  function restoreFocus(f) {
    if (!f || !f.testid) return;
    let scope = section;
    if (f.sku) {
      scope = section.querySelector('[data-testid="cart-line"][data-sku-id="' + CSS.escape(f.sku) + '"]');
    }
    let el = scope ? scope.querySelector('[data-testid="' + CSS.escape(f.testid) + '"]') : null;
    if (!el || el.disabled) el = section.querySelector("#select-all:not(:disabled)") || document.getElementById("cart-title");
    if (el) {
      if (el.id === "cart-title") el.setAttribute("tabindex", "-1");
      el.focus();
    }
  }

  function lineOf(el) {
    const li = el.closest('[data-testid="cart-line"]');
    if (!li) return null;
    return { li: li, sku: Number(li.dataset.skuId), count: Number(li.dataset.count), selected: li.dataset.selected === "true" };
  }

  function setCount(line, count, selected) {
    enqueue(function () {
      return shopFetch("PUT", "/carts/", { sku_id: line.sku, count: count, selected: selected });
    });
  }

  section.addEventListener("click", function (ev) {
    const btn = ev.target.closest("button");
    if (!btn || btn.disabled || !section.contains(btn)) return;
    const line = lineOf(btn);
    if (!line) return;
    // The server renders − and + disabled at the limits.
    if (btn.classList.contains("qty-minus")) {
      setCount(line, line.count - 1, line.selected);
    } else if (btn.classList.contains("qty-plus")) {
      setCount(line, line.count + 1, line.selected);
    } else if (btn.classList.contains("remove-line")) {
      enqueue(function () { return shopFetch("DELETE", "/carts/", { sku_id: line.sku }); });
    }
  });

  section.addEventListener("change", function (ev) {
    const el = ev.target;
    if (el.id === "select-all") {
      const selected = el.checked;
      enqueue(function () { return shopFetch("PUT", "/carts/selection/", { selected: selected }); });
      return;
    }
    const line = lineOf(el);
    if (!line) return;
    if (el.classList.contains("line-selected")) {
      setCount(line, line.count, el.checked);
    } else if (el.classList.contains("line-count")) {
      const text = el.value.trim();
      const n = Number(text);
      if (!/^\d+$/.test(text) || n < 1 || n > Number(el.max)) {
        say(section.dataset.msgCount, true);
        el.value = String(line.count);
        return;
      }
      if (n !== line.count) setCount(line, n, line.selected);
    }
  });

  // Enter in a quantity box applies it at once, as a change would.
  section.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && ev.target.classList && ev.target.classList.contains("line-count")) {
      ev.preventDefault();
      ev.target.blur();
      ev.target.focus();
    }
  });
})();
