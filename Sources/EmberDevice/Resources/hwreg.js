// HW-Reg operator UI: every page calls the board's own JSON API with the visual token kept in sessionStorage, as
// FireFly's UI does. No framework, nothing loaded from elsewhere.
"use strict";
(function () {
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

  pages.login = function () {
    if (location.search.indexOf("expired") >= 0) { flash("Your access expired or the board restarted: sign in again.", "warn"); }
    $("login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var token = $("visual-token").value.trim().toUpperCase();
      fetch("/auth", { method: "POST", headers: { "visual-token": token } }).then(function (response) {
        if (response.status === 204) { sessionStorage.setItem(TOKEN, token); location.assign("/"); return; }
        flash("That is not the token on the display, or it changed. Check the Auth token page of the display and try again.", "error");
        $("visual-token").select();
      });
    });
  };

  pages.hardware = function () {
    api("GET", "/api/checks").then(json).then(function (checks) {
      var box = $("checks");
      box.replaceChildren();
      box.className = "";
      [["Overall", checks.passed], ["Partitions", checks.partitions && checks.partitions.passed], ["Peripherals", checks.peripherals && checks.peripherals.passed]].forEach(function (item) {
        var line = document.createElement("p");
        line.appendChild(badge(item[1], "pass", "fail"));
        line.appendChild(document.createTextNode(" " + item[0]));
        box.appendChild(line);
      });
      [].concat((checks.partitions || {}).problems || [], (checks.peripherals || {}).problems || []).forEach(function (problem) { box.appendChild(el("p", problem, "notice error")); });
    });
    api("GET", "/api/mcu").then(json).then(function (mcu) {
      var list = $("mcu");
      [["Chip", mcu.chip_model + " rev " + mcu.revision], ["Cores", mcu.chip_cores + " at " + mcu.cpu_freq_mhz + " MHz"], ["Flash", mcu.flash_chip_size + " bytes, " + mcu.flash_chip_mode + " " + mcu.flash_chip_speed + " MHz"],
        ["PSRAM", mcu.psram_size ? mcu.psram_size + " bytes (" + mcu.free_psram + " free)" : "none"], ["Free heap", mcu.free_heap + " bytes"], ["Features", (mcu.chip_features || []).join(", ")],
        ["SDK", mcu.sdk_version], ["Booted", when(mcu.boot_time)]].forEach(function (pair) { list.appendChild(el("dt", pair[0])); list.appendChild(el("dd", pair[1])); });
    });
    api("GET", "/api/network").then(json).then(function (items) { fill("network", items.map(function (i) { return [i.interface, el("code", i.mac_address)]; }), "No interfaces", 2); });
    api("GET", "/api/partitions").then(json).then(function (items) {
      fill("partitions", items.map(function (p) { return [p.label, p.type, p.subtype, "0x" + p.address.toString(16), p.size]; }), "No partition table", 5);
    });
    api("GET", "/api/peripherals").then(json).then(function (items) {
      fill("peripherals", items.map(function (p) { return [p.type, p.address, badge(p.online, "online", "offline")]; }), "No peripherals", 3);
    });
    $("run-factory-test").addEventListener("click", function (event) {
      busy(event.target, function () { return api("POST", "/api/factory-test").then(function (r) { if (report(r, "Factory test finished.")) { setTimeout(function () { location.reload(); }, 600); } }); });
    });
    $("reboot").addEventListener("click", function (event) {
      busy(event.target, function () { return api("POST", "/api/mcu/reboot").then(function (r) { report(r, "Rebooting: the board checks its registration again."); }); });
    });
  };

  // A random version 4 UUID from the browser's generator (works without HTTPS, unlike randomUUID).
  function newUUID() {
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  pages.identity = function () {
    function show(identity) {
      $("identity-burned").hidden = false;
      $("identity-form-card").hidden = true;
      $("burned-uuid").textContent = identity.uuid;
      $("burned-product").textContent = identity.product_id + " (" + identity.product_hex + ")";
    }
    api("GET", "/api/identity").then(function (response) {
      if (response.ok) { return json(response).then(show); }
      $("identity-form-card").hidden = false;
      $("uuid").value = newUUID();
    });
    $("new-uuid").addEventListener("click", function () { $("uuid").value = newUUID(); });
    $("identity-form").addEventListener("submit", function (event) {
      event.preventDefault();
      if (!$("confirm-burn").checked) { flash("Tick the confirmation first: burning the identity cannot be undone.", "error"); return; }
      var body = { uuid: $("uuid").value.trim(), product_id: $("product-id").value, product_hex: $("product-hex").value };
      busy($("provision"), function () {
        return api("POST", "/api/identity", { json: body }).then(function (response) {
          if (response.status === 201) { flash("Identity burned. Next: register the device.", "ok"); show(body); registrationWarning(); return; }
          if (response.status === 409) {
            flash("This board already has an identity; it is shown below.", "error");
            return api("GET", "/api/identity").then(json).then(show);
          }
          report(response, "");
        });
      });
    });
    $("rotate-key").addEventListener("click", function (event) {
      busy(event.target, function () {
        return api("POST", "/api/keys/rotate").then(function (response) {
          if (response.ok) { return json(response).then(function (body) { flash("The device now signs with key epoch " + body.epoch + ".", "ok"); }); }
          report(response, "");
        });
      });
    });
  };

  pages.registration = function () {
    function status() {
      var box = $("registration-status");
      api("GET", "/api/registration").then(function (response) {
        return json(response).then(function (body) {
          box.replaceChildren();
          box.className = "";
          if (response.ok) {
            var line = document.createElement("p");
            line.appendChild(badge(body.registered, "registered", "not registered"));
            line.appendChild(document.createTextNode(" with " + body.cloud_api_root + ", checked " + when(body.checked_at)));
            box.appendChild(line);
            if (body.cloud_api_root && !$("cloud-url").value) { $("cloud-url").value = body.cloud_api_root; }
          } else {
            box.appendChild(el("p", body.message || ("The board answered " + response.status), response.status === 503 ? "muted" : "notice error"));
          }
        });
      });
      registrationWarning();
    }
    status();
    api("GET", "/api/config").then(json).then(function (config) { if (config.cloud_url && !$("cloud-url").value) { $("cloud-url").value = config.cloud_url; } });
    $("registration-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var key = $("registration-key").value.trim().toUpperCase();
      var url = $("cloud-url").value.trim();
      busy($("register"), function () {
        return api("POST", "/api/registration", { headers: { "X-Registration-Key": key }, json: url ? { url: url } : undefined }).then(function (response) {
          if (report(response, "Registered with the cloud.")) { $("registration-key").value = ""; }
          status();
        });
      });
    });
  };

  pages.events = function () {
    function load() {
      api("GET", "/api/errors").then(json).then(function (items) { fill("errors", items.map(function (e) { return [when(e.time), e.text]; }), "No errors", 2); });
      api("GET", "/api/events").then(json).then(function (items) {
        fill("events", items.slice().reverse().map(function (e) { return [when(e.time), e.level, e.text]; }), "No events", 3);
      });
    }
    load();
    $("refresh-events").addEventListener("click", load);
  };

  pages.backup = function () {
    var local = null, cloud = null;
    function etagOf(response) { return (response.headers.get("ETag") || "").replace(/"/g, ""); }
    function indicator() {
      $("deployment").hidden = !(local && local !== cloud);
    }
    function refresh() {
      api("GET", "/backup").then(function (response) {
        if (response.ok) {
          local = etagOf(response);
          return response.text().then(function (body) {
            $("local-state").textContent = body.length + " bytes";
            $("local-etag").textContent = local;
            if (!$("backup-text").value) { $("backup-text").value = body; }
          });
        }
        local = null;
        $("local-state").textContent = "none";
        $("local-etag").textContent = "—";
      }).then(function () {
        return api("GET", "/api/cloud-backup").then(function (response) {
          if (response.ok) { cloud = etagOf(response); $("cloud-state").textContent = "stored"; $("cloud-etag").textContent = cloud; return; }
          cloud = null;
          $("cloud-etag").textContent = "—";
          return failure(response).then(function (message) { $("cloud-state").textContent = response.status === 404 ? "none" : message; });
        });
      }).then(indicator);
    }
    refresh();
    $("backup-file").addEventListener("change", function () {
      var file = $("backup-file").files[0];
      if (file) { file.text().then(function (body) { $("backup-text").value = body; }); }
    });
    $("backup-form").addEventListener("submit", function (event) {
      event.preventDefault();
      busy($("save-backup"), function () {
        return api("PUT", "/backup", { body: $("backup-text").value }).then(function (r) { report(r, "Saved /backup.json on the device."); refresh(); });
      });
    });
    $("delete-local-backup").addEventListener("click", function (event) {
      busy(event.target, function () { return api("DELETE", "/backup").then(function (r) { report(r, "Deleted /backup.json."); $("backup-text").value = ""; refresh(); }); });
    });
    $("push-backup").addEventListener("click", function (event) {
      busy(event.target, function () { return api("POST", "/api/cloud-backup").then(function (r) { report(r, "Pushed the backup to the cloud."); refresh(); }); });
    });
    $("retrieve-backup").addEventListener("click", function (event) {
      busy(event.target, function () {
        return api("GET", "/api/cloud-backup").then(function (response) {
          if (!response.ok) { report(response, ""); return; }
          return response.text().then(function (body) { $("backup-text").value = body; flash("Retrieved the cloud copy into the editor; save it to deploy it on the device.", "ok"); });
        });
      });
    });
    $("delete-cloud-backup").addEventListener("click", function (event) {
      busy(event.target, function () { return api("DELETE", "/api/cloud-backup").then(function (r) { report(r, "Deleted the cloud copy."); refresh(); }); });
    });
  };

  pages.config = function () {
    var inputs = Array.prototype.slice.call(document.querySelectorAll("[data-field]"));
    var current = {};
    function get(object, path) { return path.split(".").reduce(function (o, k) { return o === undefined || o === null ? undefined : o[k]; }, object); }
    function value(input) {
      var kind = input.dataset.kind, raw = input.value.trim();
      if (kind === "int") { return raw === "" ? raw : (/^-?\d+$/.test(raw) ? Number(raw) : raw); }
      if (kind === "list") { return raw === "" ? [] : raw.split(",").map(function (s) { return s.trim(); }); }
      return input.value;
    }
    function shown(input, config) {
      var v = get(config, input.dataset.field);
      return input.dataset.kind === "list" ? (v || []).join(", ") : (v === undefined || v === null ? "" : String(v));
    }
    function load() {
      api("GET", "/api/config").then(json).then(function (config) {
        current = config;
        inputs.forEach(function (input) { if (input.type !== "password") { input.value = shown(input, config); } else { input.value = ""; } });
        $("config-version").textContent = text(config.schema_version);
        $("config-hash").textContent = text(config.hash);
      });
      api("GET", "/api/config/history").then(json).then(function (items) {
        fill("config-history", items.map(function (c) { return [when(c.time), c.source, (c.fields || []).join(", ")]; }), "No changes yet", 3);
      });
    }
    load();
    $("config-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var patch = {}, changed = false;
      inputs.forEach(function (input) {
        $("error-" + input.id.slice(7)).hidden = true;
        if (input.type === "password" ? input.value === "" : shown(input, current) === input.value.trim()) { return; }
        var parts = input.dataset.field.split("."), target = patch;
        parts.slice(0, -1).forEach(function (part) { target = target[part] = target[part] || {}; });
        target[parts[parts.length - 1]] = value(input);
        changed = true;
      });
      if (!changed) { flash("Nothing changed.", "ok"); return; }
      busy($("save-config"), function () {
        return api("PATCH", "/api/config", { json: patch }).then(function (response) {
          if (response.ok) { flash("Configuration saved.", "ok"); load(); return; }
          return json(response).then(function (body) {
            flash(body.message || ("The board answered " + response.status), "error");
            Object.keys(body.errors || {}).forEach(function (field) {
              var input = inputs.filter(function (i) { return i.dataset.field === field; })[0];
              var box = input ? $("error-" + input.id.slice(7)) : null;
              if (box) { box.textContent = body.errors[field]; box.hidden = false; }
            });
          });
        });
      });
    });
    $("factory-reset").addEventListener("click", function (event) {
      if (!confirm("Factory reset: restore the default configuration and forget the registration?")) { return; }
      busy(event.target, function () { return api("POST", "/api/factory-reset").then(function (r) { report(r, "Factory reset done; the board restarts."); }); });
    });
  };

  pages.decommission = function () {
    $("decommission-form").addEventListener("submit", function (event) {
      event.preventDefault();
      busy($("decommission"), function () {
        return api("POST", "/api/decommission", { json: { uuid: $("decommission-uuid").value.trim() } }).then(function (response) {
          if (!response.ok) { report(response, ""); return; }
          return json(response).then(function (body) {
            flash(body.notified ? "Decommissioned; the registry was told." : "Decommissioned on the board; the registry could not be reached and will be told at the next check-in.", "ok");
          });
        });
      });
    });
  };

  if (page !== "login") {
    if (!sessionStorage.getItem(TOKEN)) { signOut(); return; }
    $("sign-out").addEventListener("click", function () { signOut(); });
    registrationWarning();
  }
  if (pages[page]) { pages[page](); }
})();
