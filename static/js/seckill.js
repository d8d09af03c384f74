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
  let soldOut = d.phase === "soldout";
  let busy = false;
  let timer = null;

  function now() { return Date.now() + skew; }

  function pad(n) { return String(n).padStart(2, "0"); }

  function span(ms) {
    const s = Math.max(0, Math.floor(ms / 1000));
    const days = Math.floor(s / 86400);
    const hms = pad(Math.floor(s / 3600) % 24) + ":" + pad(Math.floor(s / 60) % 60) + ":" + pad(s % 60);
    return days > 0 ? days + "d " + hms : hms;
  }

  function setButton(text, enabled) {
    if (!button || busy) return;
    button.textContent = text;
    button.disabled = !enabled;
  }

  function tick() {
    const t = now();
    if (t < start) {
      label.textContent = d.msgStartsIn;
      countdown.textContent = span(start - t);
      setButton(d.msgUpcoming, false);
    } else if (t < end) {
      label.textContent = d.msgEndsIn;
      countdown.textContent = span(end - t);
      if (soldOut) setButton(d.msgSoldOut, false);
      else setButton(d.msgBuy, true);
    } else {
      countdown.textContent = span(0);
      setButton(d.msgOver, false);
      clearInterval(timer);
    }
  }

  function say(text, isError) { showMessage("seckill-message", text, isError); }

  function sleep(ms) { return new Promise(function (r) { setTimeout(r, ms); }); }

  // poll asks for the order's result until it is created or failed.
  async function poll(orderID) {
    for (let i = 0; i < 120; i++) {
      await sleep(i < 10 ? 300 : 1000);
      const res = await shopFetch("GET", "/seckill/result/" + encodeURIComponent(orderID) + "/");
      if (!res.body || res.body.code !== 0) continue;
      if (res.body.status === "created") {
        say(res.body.errmsg, false);
        document.getElementById("seckill-orders").hidden = false;
        return;
      }
      if (res.body.status === "failed") {
        say(res.body.errmsg, true);
        busy = false;
        tick();
        return;
      }
    }
  }

  if (form && button) {
    form.addEventListener("submit", async function (ev) {
      ev.preventDefault();
      if (busy || button.disabled) return;
      const address = form.querySelector('input[name="address_id"]:checked');
      if (!address) {
        say(d.msgAddress, true);
        return;
      }
      busy = true;
      button.disabled = true;
      button.setAttribute("aria-busy", "true");
      button.textContent = d.msgBuying;
      say("", false);
      const res = await shopFetch("POST", "/seckill/" + d.skuId + "/", { address_id: Number(address.value) });
      button.removeAttribute("aria-busy");
      if (res.body && res.body.code === 0) {
        say(res.body.errmsg, false);
        button.textContent = d.msgBuy;
        poll(res.body.order_id);
        return;
      }
      say((res.body && res.body.errmsg) || d.msgNetwork, true);
      if (res.body && res.body.errmsg === d.msgSoldOut) soldOut = true;
      busy = false;
      tick();
    });
  }

  tick();
  timer = setInterval(tick, 250);
})();
