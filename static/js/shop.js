// shop.js: helpers every page can use. No inline scripts are allowed (CSP).
"use strict";

// csrfToken reads the token the server put in <meta name="csrf-token">.
function csrfToken() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : "";
}

// shopFetch sends JSON with the CSRF header and returns {status, body}.
// body is the parsed JSON ({code, errmsg, ...}) or null.
async function shopFetch(method, url, data) {
  const opts = {
    method: method,
    headers: { "Accept": "application/json", "X-CSRFToken": csrfToken() },
    credentials: "same-origin",
  };
  if (data !== undefined) {
    opts.headers["Content-Type"] = "application/json";
    opts.body = JSON.stringify(data);
  }
  let res;
  try {
    res = await fetch(url, opts);
  } catch (e) {
    return { status: 0, body: { code: -1, errmsg: "network error" } };
  }
  let body = null;
  try { body = await res.json(); } catch (e) { body = null; }
  if (res.status === 401 && body && body.code === 4101) {
    window.location.href = "/login/?next=" + encodeURIComponent(window.location.pathname + window.location.search);
  }
  return { status: res.status, body: body };
}

// showMessage puts text into the element with id, marking it as an error or not.
function showMessage(id, text, isError) {
  const el = document.getElementById(id);
  if (!el) return;
  el.textContent = text;
  el.classList.toggle("msg-error", !!isError);
  el.classList.toggle("msg-ok", !isError);
  el.hidden = !text;
}
