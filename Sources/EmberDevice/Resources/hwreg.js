// HW-Reg operator UI: every page calls the board's own JSON API with the visual token kept in sessionStorage, as
// FireFly's UI does. No framework, nothing loaded from elsewhere. This file holds the shared helpers; the pages are in
// hwreg-setup.js (sign-in, hardware, identity, registration, events) and hwreg-data.js (backup, configuration,
// decommission), loaded after it.
"use strict";
var HWReg = (function () {
  var page = document.body.dataset.page;
  var TOKEN = "visual-token";
  function $(id) { return document.getElementById(id); }
  function text(value) { return value === null || value === undefined || value === "" ? "—" : String(value); }
  function el(tag, content, className) {
    var node = document.createElement(tag);
    node.textContent = text(content);
    if (className) { node.className = className; }
    return node;
  }
  function row(cells) {
    var tr = document.createElement("tr");
    cells.forEach(function (cell) { tr.appendChild(cell instanceof Node ? wrap(cell) : el("td", cell)); });
    return tr;
  }
  function wrap(node) { var td = document.createElement("td"); td.appendChild(node); return td; }
  function fill(id, rows, empty, columns) {
    var body = $(id);
    body.replaceChildren();
    if (rows.length === 0) { var tr = row([empty]); tr.firstChild.colSpan = columns; tr.firstChild.className = "muted"; body.appendChild(tr); }
    rows.forEach(function (cells) { body.appendChild(row(cells)); });
  }
  function badge(ok, yes, no) { return el("span", ok ? yes : no, "badge " + (ok ? "ok" : "bad")); }
  function when(seconds) {
    if (!seconds) { return "at boot"; }
    if (seconds < 1000000000) { return "uptime " + seconds + " s"; }
    return new Date(seconds * 1000).toISOString().replace("T", " ").replace(".000Z", " UTC");
  }
  function flash(message, kind) {
    var box = $("flash");
    box.replaceChildren();
    if (!message) { return; }
    var note = el("div", message, "notice " + (kind || "ok"));
    note.setAttribute("role", kind === "error" ? "alert" : "status");
    box.appendChild(note);
  }
  function signOut(reason) {
    sessionStorage.removeItem(TOKEN);
    location.assign("/login" + (reason ? "?" + reason : ""));
  }

  // One call of the board's API; a 401 drops the token and goes to sign-in, as FireFly's UI does.
  function api(method, path, options) {
    options = options || {};
    var headers = Object.assign({ "visual-token": sessionStorage.getItem(TOKEN) || "" }, options.headers || {});
    var init = { method: method, headers: headers };
    if (options.json !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(options.json); }
    if (options.body !== undefined) { headers["Content-Type"] = "application/json"; init.body = options.body; }
    return fetch(path, init).then(function (response) {
      if (response.status === 401 && page !== "login") { signOut("expired"); throw new Error("signed out"); }
      return response;
    });
  }
  function json(response) { return response.text().then(function (body) { try { return body ? JSON.parse(body) : {}; } catch (e) { return {}; } }); }
  function failure(response) {
    return json(response).then(function (body) { return body.message || ("The board answered " + response.status); });
  }
  function report(response, success) {
    if (response.ok) { flash(success, "ok"); return true; }
    failure(response).then(function (message) { flash(message, "error"); });
    return false;
  }
  function busy(button, work) {
    button.disabled = true;
    return work().finally(function () { button.disabled = false; });
  }

  // The navigation's warning: provisioned but not registered, or the last registration check failed.
  function registrationWarning() {
    var link = $("nav-registration");
    if (!link) { return; }
    api("GET", "/api/registration").then(function (response) {
      if (response.status === 409) { return null; }
      return json(response).then(function (body) {
        if (response.ok && body.registered) { return null; }
        if (response.ok) { return "Provisioned but not registered"; }
        if (response.status === 503) { return "Provisioned; registration not confirmed yet"; }
        return "Last registration check failed: " + (body.message || response.status);
      });
    }).then(function (warning) {
      link.classList.toggle("warn", !!warning);
      if (warning) { link.title = warning; link.setAttribute("aria-label", "Registration (warning: " + warning + ")"); }
      else { link.removeAttribute("title"); link.removeAttribute("aria-label"); }
    }).catch(function () {});
  }

  var pages = {};

  // Runs the current page once every page file has registered its pages.
  function start() {
    if (page !== "login") {
      if (!sessionStorage.getItem(TOKEN)) { signOut(); return; }
      $("sign-out").addEventListener("click", function () { signOut(); });
      registrationWarning();
    }
    if (pages[page]) { pages[page](); }
  }
  document.addEventListener("DOMContentLoaded", start);

  return {
    TOKEN: TOKEN,
    page: page,
    "$": $,
    text: text,
    el: el,
    row: row,
    fill: fill,
    badge: badge,
    when: when,
    flash: flash,
    signOut: signOut,
    api: api,
    json: json,
    failure: failure,
    report: report,
    busy: busy,
    registrationWarning: registrationWarning,
    pages: pages
  };
})();
