// HW-Reg's Wi-Fi setup page (field provisioning, lifecycle §7): the state from GET /api/provisioning (public), the
// steps from the event log, and PUT /api/provisioning with the visual token. Loaded after hwreg.js.
"use strict";
(function (HWReg) {
  var $ = HWReg.$, el = HWReg.el, api = HWReg.api, json = HWReg.json, badge = HWReg.badge, pages = HWReg.pages;
  var STEPS = ["WiFi connecting", "WiFi connected", "Clock synchronized", "Cloud validating", "Cloud registered", "Device claiming", "Device claimed", "Operational", "Provisioning fail"];

  pages.provisioning = function () {
    // `since`: the last event before the request (null before one); the steps are the events after it.
    var timer = null, since = null;
    function after(events) {
      events = Array.isArray(events) ? events : [];
      if (!since) { return events; }
      for (var i = events.length - 1; i >= 0; i--) {
        if (events[i].time === since.time && events[i].text === since.text) { return events.slice(i + 1); }
      }
      return events;
    }
    function steps() {
      if (since === null) { return; }
      api("GET", "/api/events").then(json).then(function (events) {
        var list = $("provisioning-steps");
        list.replaceChildren();
        after(events).filter(function (e) { return STEPS.indexOf(e.text) >= 0; }).forEach(function (e) { list.appendChild(el("li", e.text)); });
      });
    }
    function status() {
      return api("GET", "/api/provisioning").then(function (response) {
        return json(response).then(function (body) {
          var box = $("provisioning-status"), line = document.createElement("p");
          box.replaceChildren();
          box.className = "";
          if (!body.ap_ssid) {
            box.appendChild(el("p", "This board is wired: it has no Wi-Fi to set up.", "muted"));
            $("provisioning-card").hidden = true;
            return body;
          }
          line.appendChild(badge(body.state === "operational", body.state, body.state));
          var advertising = body.state === "provisioning" || body.state === "failed";
          line.appendChild(document.createTextNode(advertising ? " access point " + body.ap_ssid + " is up" : " (access point " + body.ap_ssid + " off)"));
          box.appendChild(line);
          if (body.error) { box.appendChild(el("p", body.error, body.state === "failed" ? "notice error" : "muted")); }
          $("provisioning-card").hidden = !(body.state === "provisioning" || body.state === "failed");
          return body;
        });
      });
    }
    // While steps run, follow them every second.
    function follow() {
      status().then(function (body) {
        steps();
        var running = ["connecting", "validating", "claiming"].indexOf(body.state) >= 0;
        if (running) { timer = setTimeout(follow, 1000); } else { timer = null; }
        if (body.state === "operational" && since !== null) {
          HWReg.flash("The board is on the network and operational.", "ok");
          HWReg.registrationWarning();
        }
        if (body.state === "failed" && since !== null) { HWReg.flash(body.error || "Provisioning failed", "error"); }
      });
    }
    status();
    api("GET", "/api/config").then(json).then(function (config) {
      if (config.cloud_url && !$("provisioning-cloud").value) { $("provisioning-cloud").value = config.cloud_url; }
    });
    $("provisioning-form").addEventListener("submit", function (event) {
      event.preventDefault();
      var request = { wifi: { ssid: $("wifi-ssid").value, password: $("wifi-password").value } };
      var cloud = $("provisioning-cloud").value.trim(), token = $("claim-token").value.trim().toUpperCase();
      if (cloud) { request.cloud_url = cloud; }
      if (token) { request.claim_token = token; }
      HWReg.busy($("provision-wifi"), function () {
        return api("GET", "/api/events").then(json).then(function (events) {
          since = Array.isArray(events) && events.length ? events[events.length - 1] : false;
          return api("PUT", "/api/provisioning", { json: request });
        }).then(function (response) {
          if (!HWReg.report(response, "Connecting…")) { return; }
          $("wifi-password").value = "";
          if (timer) { clearTimeout(timer); }
          follow();
        });
      });
    });
  };
})(HWReg);
