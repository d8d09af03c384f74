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
