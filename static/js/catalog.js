// catalog.js: the home page's category menu. Each first-level category is
// a <details> that a tap, a click or Enter opens without any script; this
// adds opening on hover for a mouse, keeps one panel open at a time, and
// closes it with Escape or a click elsewhere.
"use strict";

(function () {
  const items = Array.from(document.querySelectorAll(".cat-menu-item"));
  if (items.length === 0) return;
  const hover = window.matchMedia("(hover: hover) and (pointer: fine)");

  function closeOthers(keep) {
    for (const d of items) if (d !== keep) d.open = false;
  }

  for (const d of items) {
    d.addEventListener("toggle", function () { if (d.open) closeOthers(d); });
    const entry = d.parentElement;
    entry.addEventListener("mouseenter", function () { if (hover.matches) d.open = true; });
    entry.addEventListener("mouseleave", function () { if (hover.matches) d.open = false; });
  }

  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    const open = items.find(function (d) { return d.open; });
    if (open) {
      open.open = false;
      open.querySelector("summary").focus();
    }
  });
  document.addEventListener("click", function (event) {
    if (!event.target.closest(".cat-menu-item")) closeOthers(null);
  });
})();
