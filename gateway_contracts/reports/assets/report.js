// gateway-contracts report: filters and evidence controls. Inlined into report.html; fetches nothing.
// The page is complete without this script (every clause shown); the script only hides and expands.
(function () {
  "use strict";
  var profile = document.getElementById("filter-profile");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[data-result-filter]"));
  var clauses = Array.prototype.slice.call(document.querySelectorAll("details.clause"));
  var count = document.getElementById("shown-count");

  function wanted() {
    var results = {};
    boxes.forEach(function (box) { results[box.value] = box.checked; });
    return { profile: profile.value, results: results };
  }

  function apply() {
    var w = wanted();
    var shown = 0;
    clauses.forEach(function (el) {
      var visible = (!w.profile || el.dataset.profile === w.profile) && w.results[el.dataset.result] === true;
      el.hidden = !visible;
      if (visible) { shown += 1; }
    });
    count.textContent = "showing " + shown + " of " + clauses.length + " clauses";
    var hidden = boxes.filter(function (b) { return !b.checked; }).map(function (b) { return b.value; });
    var state = [];
    if (w.profile) { state.push("profile=" + encodeURIComponent(w.profile)); }
    if (hidden.length) { state.push("hide=" + hidden.join(",")); }
    // Keep the filter in the address so a link to the page shows what its sender saw. Some browsers refuse
    // history changes on file:// pages; the filter still works, it is just not kept.
    try {
      history.replaceState(null, "", state.length ? "#" + state.join("&") : location.pathname + location.search);
    } catch (e) { /* not kept: see above */ }
  }

  function restore() {
    var hash = location.hash.replace(/^#/, "");
    if (!hash || hash.indexOf("=") < 0) { return; }
    hash.split("&").forEach(function (pair) {
      var kv = pair.split("=");
      var value = decodeURIComponent(kv[1] || "");
      if (kv[0] === "profile") { profile.value = value; }
      if (kv[0] === "hide") {
        var hide = value.split(",");
        boxes.forEach(function (b) { b.checked = hide.indexOf(b.value) < 0; });
      }
    });
  }

  function setOpen(open) {
    clauses.forEach(function (el) {
      if (el.hidden) { return; }
      el.open = open;
      Array.prototype.forEach.call(el.querySelectorAll("details.evidence"), function (d) { d.open = open; });
    });
  }

  function copy(button) {
    var text = button.parentNode.querySelector("pre").textContent;
    function done(ok) {
      button.textContent = ok ? "copied" : "select + copy";
      setTimeout(function () { button.textContent = "copy"; }, 1500);
    }
    // The clipboard API is refused on some file:// pages; fall back to selecting the text for the reader.
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(text).then(function () { done(true); }, function () { select(button); done(false); });
    } else {
      select(button);
      done(false);
    }
  }

  function select(button) {
    var range = document.createRange();
    range.selectNodeContents(button.parentNode.querySelector("pre"));
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  profile.addEventListener("change", apply);
  boxes.forEach(function (box) { box.addEventListener("change", apply); });
  document.getElementById("expand-all").addEventListener("click", function () { setOpen(true); });
  document.getElementById("collapse-all").addEventListener("click", function () { setOpen(false); });
  Array.prototype.forEach.call(document.querySelectorAll(".reproduce button"), function (b) {
    b.addEventListener("click", function () { copy(b); });
  });
  restore();
  apply();
})();
