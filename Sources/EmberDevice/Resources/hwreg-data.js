// HW-Reg UI pages for a board's data: backup (with Deployment Required), configuration, decommissioning.
"use strict";
(function (ui) {
  var page = ui.page, $ = ui.$, text = ui.text, el = ui.el, fill = ui.fill, badge = ui.badge, when = ui.when, flash = ui.flash;
  var api = ui.api, json = ui.json, failure = ui.failure, report = ui.report, busy = ui.busy, registrationWarning = ui.registrationWarning;
  var pages = ui.pages;
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

})(HWReg);
