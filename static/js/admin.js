// admin.js: the staff pages. Forms that do something hard to undo carry
// data-confirm with the question to ask first.
"use strict";

document.addEventListener("submit", function (ev) {
  const form = ev.target;
  const question = form.getAttribute && form.getAttribute("data-confirm");
  if (question && !window.confirm(question)) {
    ev.preventDefault();
  }
});

// A search box with data-filter-for narrows that <select>'s options to
// those whose text contains what is typed (the flash-sale form's SKU
// picker). Without JavaScript the box stays hidden and the select works.
document.querySelectorAll("input[data-filter-for]").forEach(function (box) {
  const select = document.getElementById(box.dataset.filterFor);
  if (!select) return;
  box.hidden = false;
  box.addEventListener("input", function () {
    const q = box.value.trim().toLowerCase();
    let first = null;
    Array.from(select.options).forEach(function (o) {
      const show = !o.value || !q || o.text.toLowerCase().includes(q);
      o.hidden = !show;
      if (show && o.value && !first) first = o;
    });
    if (q && first && (select.selectedOptions.length === 0 || select.selectedOptions[0].hidden || !select.value)) {
      select.value = first.value;
    }
  });
});
