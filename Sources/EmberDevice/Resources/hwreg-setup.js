// HW-Reg UI pages for setting a board up: sign-in, hardware, identity, registration, events.
"use strict";
(function (ui) {
  var page = ui.page, $ = ui.$, text = ui.text, el = ui.el, fill = ui.fill, badge = ui.badge, when = ui.when, flash = ui.flash;
  var api = ui.api, json = ui.json, failure = ui.failure, report = ui.report, busy = ui.busy, registrationWarning = ui.registrationWarning;
  var pages = ui.pages;
  pages.login = function () {
    if (location.search.indexOf("expired") >= 0) { flash("Your access expired or the board restarted: sign in again.", "warn"); }
    $("login-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var token = $("visual-token").value.trim().toUpperCase();
      fetch("/auth", { method: "POST", headers: { "visual-token": token } }).then(function (response) {
        if (response.status === 204) { sessionStorage.setItem(ui.TOKEN, token); location.assign("/"); return; }
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
      api("GET", "/api/zero-touch").then(function (response) {
        return json(response).then(function (body) {
          if (!response.ok || body.state === "off") { $("zero-touch-card").hidden = true; return; }
          var box = $("zero-touch-status"), line = document.createElement("p");
          box.replaceChildren();
          $("zero-touch-card").hidden = false;
          line.appendChild(badge(body.state === "enrolled", body.state, body.state));
          line.appendChild(document.createTextNode(" serial " + (body.serial || "?") + (body.attempts ? ", " + body.attempts + " attempt(s) this boot" : "")));
          box.appendChild(line);
          if (body.message) { box.appendChild(el("p", body.message, body.state === "failed" ? "notice error" : "muted")); }
          if (body.certificate_subject) { box.appendChild(el("p", "Device certificate " + body.certificate_subject + ", valid until " + when(body.certificate_not_after), "muted")); }
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

})(HWReg);
