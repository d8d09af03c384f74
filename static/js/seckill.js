// seckill.js drives a flash sale's page (/seckill/<sku_id>/): the
// countdown to the start or the end (on the server's clock, whatever the
// browser's says), the buy button (enabled only while the sale is live),
// the buy itself, and then polling of the order's result until it is
// created or has failed.
"use strict";

(function () {
  const root = document.getElementById("seckill");
  if (!root) return;
  const d = root.dataset;
  const start = Number(d.start), end = Number(d.end);
  const skew = Number(d.now) - Date.now(); // server clock minus browser clock
  const form = document.getElementById("seckill-form");
  const button = document.getElementById("seckill-buy");
  const countdown = document.getElementById("countdown");
  const label = document.getElementById("countdown-label");
  const stockLeft = document.getElementById("stock-left");
  // A phase only moves forward. The server's phase is where the page
  // starts: a sale staff closed early is "ended" before its end time, and
  // the clock must not bring it back to life.
  const rank = { upcoming: 0, live: 1, soldout: 2, ended: 3 };
  let phase = d.phase in rank ? d.phase : "upcoming";
  let requesting = false; // a buy is on its way: the button shows it
  // bought: the shopper has bought all the sale allows; the server says so
  // on a reload (data-bought), and a failed order frees the button again.
  let bought = d.bought === "true";
  let timer = null;

  function advance(p) {
    if (rank[p] > rank[phase]) phase = p;
  }

  function now() { return Date.now() + skew; }

  function pad(n) { return String(n).padStart(2, "0"); }

  function span(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const days = Math.floor(s / 86400);
    const hms = pad(Math.floor(s / 3600) % 24) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    return days > 0 ? days + "d " + hms : hms;
  }

  function setButton(text, enabled) {
    if (!button || requesting) return;
    button.textContent = bought && enabled ? d.msgBought : text;
    button.disabled = !enabled || bought;
  }

  function tick() {
    const t = now();
    advance(t < start ? "upcoming" : t < end ? "live" : "ended");
    switch (phase) {
      case "upcoming":
        label.textContent = d.msgStartsIn;
        countdown.textContent = span(start - t);
        setButton(d.msgUpcoming, false);
        break;
      case "live":
      case "soldout":
        label.textContent = d.msgEndsIn;
        countdown.textContent = span(end - t);
        if (phase === "soldout") setButton(d.msgSoldOut, false);
        else setButton(d.msgBuy, true);
        break;
      default:
        label.textContent = d.msgEndsIn;
        countdown.textContent = span(0);
        setButton(d.msgOver, false);
        clearInterval(timer);
    }
  }

  // oneLess shows one unit fewer left, after the shopper's own buy (the
  // answer does not say how many are left); none left is sold out.
  function oneLess() {
    if (!stockLeft) return;
    const n = Math.max(0, Number(stockLeft.dataset.left) - 1);
    stockLeft.dataset.left = String(n);
    stockLeft.textContent = d.msgOf.replace("%d", String(n)).replace("%d", stockLeft.dataset.total);
    if (n === 0) advance("soldout");
  }

  function say(text, isError) { showMessage("seckill-message", text, isError); }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // offerPay points the result area's pay button (pay.js drives it) at
  // the order just created: a flash-sale order awaits online payment.
  function offerPay(orderID) {
    const pay = document.getElementById("seckill-pay");
    const msg = document.querySelector('[data-testid="seckill-pay-msg"]');
    if (!pay) return;
    pay.dataset.orderId = orderID;
    if (msg) msg.id = "order-msg-" + orderID;
    pay.hidden = false;
  }

  // poll asks for the order's result until it is created or failed.
  async function poll(orderID) {
    for (let i = 0; i < 120; i++) {
      await sleep(i < 10 ? 300 : 1000);
      const res = await shopFetch("GET", "/seckill/result/" + encodeURIComponent(orderID) + "/");
      if (!res.body || res.body.code !== 0) continue;
      if (res.body.status === "created") {
        say(res.body.errmsg, false);
        offerPay(orderID);
        document.getElementById("seckill-orders").hidden = false;
        return;
      }
      if (res.body.status === "failed") {
        say(res.body.errmsg, true);
        bought = false;
        tick();
        return;
      }
    }
  }

  if (form && button) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (requesting || button.disabled) return;
      const address = form.querySelector('input[name="address_id"]:checked');
      if (!address) {
        say(d.msgAddress, true);
        return;
      }
      requesting = true;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = d.msgBuying;
      say("", false);
      const res = await shopFetch("POST", "/seckill/" + d.skuId + "/", { address_id: Number(address.value) });
      button.removeAttribute("aria-busy");
      requesting = false;
      if (res.body && res.body.code === 0) {
        bought = true;
        say(res.body.errmsg, false);
        oneLess();
        tick();
        poll(res.body.order_id);
        return;
      }
      say((res.body && res.body.errmsg) || d.msgNetwork, true);
      if (res.body && res.body.errmsg === d.msgSoldOut) advance("soldout");
      if (res.body && res.body.errmsg === d.msgEnded) advance("ended");
      tick();
    });
  }

  timer = setInterval(tick, 250);
  tick();

  // A buy still being turned into an order when the page was rendered:
  // look again shortly, until the server knows how it ended.
  if (d.mine === "queued") setTimeout(function () { window.location.reload(); }, 3000);
})();
