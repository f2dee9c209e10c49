// Ember console: copy buttons and expiry countdowns. The pages work without it.
"use strict";
document.querySelectorAll("[data-copy]").forEach(function (button) {
  button.addEventListener("click", function () {
    var text = document.getElementById(button.dataset.copy).textContent.trim();
    navigator.clipboard.writeText(text).then(function () { button.textContent = "Copied"; }, function () {
      var range = document.createRange();
      range.selectNodeContents(document.getElementById(button.dataset.copy));
      window.getSelection().removeAllRanges();
      window.getSelection().addRange(range);
      button.textContent = "Selected: press Ctrl+C";
    });
  });
});
function countdown() {
  var now = Date.now() / 1000;
  document.querySelectorAll("[data-expires]").forEach(function (node) {
    var left = Math.round(Number(node.dataset.expires) - now);
    if (left <= 0) { node.textContent = "expired"; return; }
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    node.textContent = "in " + (h > 0 ? h + " h " : "") + (h > 0 || m > 0 ? m + " min " : "") + s + " s";
  });
}
if (document.querySelector("[data-expires]")) { countdown(); setInterval(countdown, 1000); }
