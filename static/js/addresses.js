// addresses.js: the address book page. The form adds or edits an address;
// the buttons on each card edit, delete or make it the default. Every change
// goes to the JSON endpoints, then the page reloads to show the new state.
"use strict";

(function () {
  const form = document.getElementById("address-form");
  const list = document.getElementById("address-list");
  if (!form || !list) return;
  const heading = document.getElementById("address-form-title");
  const cancel = document.getElementById("address-cancel");
  const fields = ["receiver", "province", "city", "district", "place", "mobile", "tel", "email", "title"];

  function report(body) {
    const text = (body && body.errmsg) || form.dataset.networkError;
    showMessage("address-msg", text, true);
    document.getElementById("address-msg").scrollIntoView({ block: "nearest" });
  }

  async function send(method, url, data) {
    const res = await shopFetch(method, url, data);
    if (res.body && res.body.code === 0) {
      window.location.reload();
      return;
    }
    report(res.body);
  }

  function startNew() {
    form.reset();
    form.elements.id.value = "";
    heading.textContent = heading.dataset.new;
    cancel.hidden = true;
  }

  function startEdit(card) {
    fields.forEach(function (f) { form.elements[f].value = card.dataset[f] || ""; });
    form.elements.id.value = card.dataset.id;
    heading.textContent = heading.dataset.edit;
    cancel.hidden = false;
    form.scrollIntoView({ behavior: "smooth", block: "start" });
    form.elements.receiver.focus({ preventScroll: true });
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    if (!form.reportValidity()) return;
    const data = {};
    fields.forEach(function (f) { data[f] = form.elements[f].value.trim(); });
    const id = form.elements.id.value;
    if (id) {
      send("PUT", "/addresses/" + encodeURIComponent(id) + "/", data);
    } else {
      send("POST", "/addresses/create/", data);
    }
  });

  cancel.addEventListener("click", startNew);

  list.addEventListener("click", function (e) {
    const button = e.target.closest("button[data-action]");
    if (!button) return;
    const card = button.closest("[data-id]");
    const url = "/addresses/" + encodeURIComponent(card.dataset.id) + "/";
    switch (button.dataset.action) {
      case "edit":
        startEdit(card);
        break;
      case "delete":
        if (window.confirm(form.dataset.confirmDelete)) send("DELETE", url, {});
        break;
      case "default":
        send("PUT", url + "default/", {});
        break;
    }
  });
})();
