// review.js drives the review page (/orders/comment/?order_id=): each
// line's form posts {order_id, sku_id, comment, score, is_anonymous} as
// JSON to POST /orders/comment/. A reviewed line's form is replaced by a
// thank-you; when the last line is reviewed the order is finished and the
// page goes to the order's detail. A refusal is shown under the form.
"use strict";

(function () {
  document.addEventListener("submit", async function (ev) {
    const form = ev.target.closest("form.review-form");
    if (!form) return;
    ev.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button.disabled) return;
    const msgId = "review-msg-" + form.dataset.skuId;
    const score = form.querySelector('input[name="score"]:checked');
    button.disabled = true;
    button.setAttribute("aria-busy", "true");
    const res = await shopFetch("POST", "/orders/comment/", {
      order_id: form.dataset.orderId,
      sku_id: Number(form.dataset.skuId),
      comment: form.elements.comment.value,
      score: Number(score ? score.value : 5),
      is_anonymous: form.elements.is_anonymous.checked,
    });
    button.removeAttribute("aria-busy");
    if (res.body && res.body.code === 0) {
      if (res.body.finished) {
        window.location.assign("/orders/detail/" + encodeURIComponent(form.dataset.orderId) + "/");
        return;
      }
      const done = document.createElement("p");
      done.className = "card msg-ok";
      done.setAttribute("role", "status");
      done.dataset.testid = "review-thanks";
      done.textContent = form.dataset.msgDone;
      form.replaceWith(done);
      return;
    }
    button.disabled = false;
    showMessage(msgId, (res.body && res.body.errmsg) || form.dataset.msgNetwork, true);
  });
})();
