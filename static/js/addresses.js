// addresses.js: the address book page. The form adds or edits an address;
// the buttons on each card edit, delete or make it the default. The region
// is three cascading selects filled from GET /areas/ and /areas/<id>/.
// Every change goes to the JSON endpoints; on success the page comes back
// as /addresses/?done=<action>&id=<address>, which says what happened. A
// refused field gets its message next to it, and the focus.
"use strict";

(function () {
  const form = document.getElementById("address-form");
  const list = document.getElementById("address-list");
  if (!form || !list) return;
  const heading = document.getElementById("address-form-title");
  const cancel = document.getElementById("address-cancel");
  const formMsg = document.getElementById("address-form-msg");
  const oldRegion = document.getElementById("f-region-old");
  const fields = ["receiver", "place", "mobile", "tel", "email", "title"];
  const levels = ["province", "city", "district"];
  const selects = {};
  levels.forEach(function (l) { selects[l] = form.elements[l + "_id"]; });
  const cache = {};
  const latest = {}; // per select, the fill whose answer counts

  // After a change: say what happened and bring it into view.
  const done = document.getElementById("address-msg");
  if (done && !done.hidden) {
    const card = document.getElementById("address-" + done.dataset.changed);
    if (card) card.classList.add("is-changed");
    done.focus({ preventScroll: true });
    done.scrollIntoView({ block: "center" });
    history.replaceState(null, "", window.location.pathname);
  }

  async function subs(id) {
    if (!cache[id]) {
      cache[id] = shopFetch("GET", "/areas/" + encodeURIComponent(id) + "/").then(function (res) {
        if (!res.body || res.body.code !== 0) {
          delete cache[id];
          throw new Error("areas " + id);
        }
        return res.body.sub_data.subs;
      });
    }
    return cache[id];
  }

  function clearSelect(sel) {
    sel.length = 1;
    sel.value = "";
    sel.disabled = true;
  }

  // fill loads the choices below level from its selected region, then
  // selects want (an id, or "" for none).
  async function fill(level, want) {
    const next = levels[levels.indexOf(level) + 1];
    if (!next) return;
    const sel = selects[next];
    // Clearing the selects below also voids their fills still under way.
    levels.slice(levels.indexOf(next)).forEach(function (l) {
      clearSelect(selects[l]);
      latest[l] = (latest[l] || 0) + 1;
    });
    const parent = selects[level].value;
    const turn = latest[next];
    if (!parent) return;
    sel.options[0].textContent = form.dataset.loading;
    let items;
    try {
      items = await subs(parent);
    } catch (e) {
      if (latest[next] !== turn) return;
      sel.options[0].textContent = form.dataset.choose;
      fieldError(next, form.dataset.regionsFailed);
      return;
    }
    if (latest[next] !== turn) return; // changed again meanwhile
    sel.options[0].textContent = form.dataset.choose;
    items.forEach(function (a) { sel.add(new Option(a.name, a.id)); });
    sel.disabled = false;
    sel.value = want || "";
  }

  levels.forEach(function (l) {
    selects[l].addEventListener("change", function () {
      clearError(l);
      fill(l, "");
    });
  });

  function errorEl(field) {
    const input = field in selects ? selects[field] : form.elements[field];
    const row = input && input.closest(".form-row");
    if (!row) return null;
    let p = row.querySelector(".field-error");
    if (!p) {
      p = document.createElement("p");
      p.className = "field-error";
      p.id = input.id + "-error";
      p.dataset.testid = "error-" + field;
      row.appendChild(p);
    }
    return { input: input, p: p, row: row };
  }

  function fieldError(field, text) {
    const e = errorEl(field);
    if (!e) return false;
    e.p.textContent = text;
    e.p.hidden = false;
    e.row.classList.add("has-error");
    e.input.setAttribute("aria-invalid", "true");
    e.input.setAttribute("aria-describedby", e.p.id);
    return e.input;
  }

  function clearError(field) {
    const input = field in selects ? selects[field] : form.elements[field];
    const row = input && input.closest(".form-row");
    if (!row) return;
    const p = row.querySelector(".field-error");
    if (p) p.hidden = true;
    row.classList.remove("has-error");
    input.removeAttribute("aria-invalid");
  }

  function clearErrors() {
    fields.concat(levels).forEach(clearError);
    formMsg.hidden = true;
  }

  function formError(text) {
    showMessage("address-form-msg", text, true);
    formMsg.focus({ preventScroll: true });
    formMsg.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  // A field the browser finds wrong before sending: say so next to it.
  function checkLocally() {
    let first = null;
    fields.concat(levels).forEach(function (f) {
      const input = f in selects ? selects[f] : form.elements[f];
      if (!input.checkValidity()) {
        fieldError(f, input.validationMessage);
        first = first || input;
      }
    });
    return first;
  }

  function goBack(action, id) {
    window.location.assign("/addresses/?done=" + action + (id ? "&id=" + encodeURIComponent(id) : "") + "#address-msg");
  }

  async function send(method, url, data, action, id) {
    const res = await shopFetch(method, url, data);
    const body = res.body || {};
    if (body.code === 0) {
      goBack(action, id || (body.address && body.address.id));
      return;
    }
    const field = body.field && body.field.replace(/_id$/, "");
    const input = field && fieldError(field, body.reason);
    if (input) {
      showMessage("address-form-msg", form.dataset.fix, true);
      input.focus();
      input.scrollIntoView({ behavior: "smooth", block: "center" });
      return;
    }
    const text = body.errmsg || form.dataset.networkError;
    if (method === "POST" || (method === "PUT" && action === "updated")) {
      formError(text);
      return;
    }
    showMessage("address-msg", text, true); // a card's button
    done.focus({ preventScroll: true });
    done.scrollIntoView({ behavior: "smooth", block: "center" });
  }

  function startNew() {
    form.reset();
    clearErrors();
    form.elements.id.value = "";
    heading.textContent = heading.dataset.new;
    cancel.hidden = true;
    oldRegion.hidden = true;
    clearSelect(selects.city);
    clearSelect(selects.district);
  }

  async function startEdit(card) {
    clearErrors();
    fields.forEach(function (f) { form.elements[f].value = card.dataset[f] || ""; });
    form.elements.id.value = card.dataset.id;
    heading.textContent = heading.dataset.edit;
    cancel.hidden = false;
    form.scrollIntoView({ behavior: "smooth", block: "start" });
    form.elements.receiver.focus({ preventScroll: true });
    const ids = [card.dataset.provinceId, card.dataset.cityId, card.dataset.districtId];
    const picked = ids[2] && ids[2] !== "0";
    oldRegion.hidden = picked;
    if (!picked) {
      oldRegion.textContent = form.dataset.oldRegion.replace("%s",
        [card.dataset.province, card.dataset.city, card.dataset.district].join(" "));
    }
    selects.province.value = picked ? ids[0] : "";
    await fill("province", picked ? ids[1] : "");
    await fill("city", picked ? ids[2] : "");
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    clearErrors();
    const bad = checkLocally();
    if (bad) {
      showMessage("address-form-msg", form.dataset.fix, true);
      bad.focus();
      return;
    }
    const data = {};
    fields.forEach(function (f) { data[f] = form.elements[f].value.trim(); });
    levels.forEach(function (l) { data[l + "_id"] = Number(selects[l].value); });
    const id = form.elements.id.value;
    if (id) {
      send("PUT", "/addresses/" + encodeURIComponent(id) + "/", data, "updated", id);
    } else {
      send("POST", "/addresses/create/", data, "created");
    }
  });

  fields.forEach(function (f) {
    form.elements[f].addEventListener("input", function () { clearError(f); });
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
        if (window.confirm(form.dataset.confirmDelete)) send("DELETE", url, {}, "deleted");
        break;
      case "default":
        send("PUT", url + "default/", {}, "default", card.dataset.id);
        break;
    }
  });
})();
