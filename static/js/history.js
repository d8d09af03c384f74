// history.js: a logged-in shopper's visit to a product page goes into
// their browse history (POST /browse_histories/ {sku_id}), as the Django
// shop records it. The page is included only for logged-in users; a
// failure is not the shopper's concern and is ignored.
"use strict";

(function () {
  const detail = document.querySelector('[data-testid="detail"][data-sku-id]');
  if (!detail) return;
  const skuId = Number(detail.dataset.skuId);
  if (!(skuId > 0)) return;
  shopFetch("POST", "/browse_histories/", { sku_id: skuId });
})();
