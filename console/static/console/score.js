// The running total and band of a withdrawal instrument while it is filled in. Only a preview:
// the server scores the saved answers, and its score is the one stored.
(function () {
  "use strict";
  var form = document.querySelector("form[data-instrument]");
  if (!form) { return; }
  var instrument = form.dataset.instrument;
  var definition = JSON.parse(form.dataset.definition || "{}");
  var out = document.getElementById("running-total");

  function band(total) {
    var bands = definition.bands || [];
    for (var i = 0; i < bands.length; i++) {
      if (total >= bands[i].low && total <= bands[i].high) { return bands[i].name; }
    }
    return "";
  }

  function scale() {
    var groups = form.querySelectorAll("fieldset.item");
    var total = 0, answered = 0;
    groups.forEach(function (group) {
      var checked = group.querySelector("input[type=radio]:checked");
      if (checked) { total += parseInt(checked.value, 10); answered += 1; }
    });
    var text = "Running total: " + total + " (" + answered + " of " + groups.length + " items answered)";
    var name = band(total);
    if (answered === groups.length && name) { text += ". Band: " + name; }
    out.textContent = text;
  }

  function checklist() {
    var combined = definition.combined || [];
    var met = 0, combinedMet = false;
    form.querySelectorAll("input[type=checkbox]").forEach(function (box) {
      if (!box.checked) { return; }
      if (combined.indexOf(box.name) >= 0) { combinedMet = true; } else { met += 1; }
    });
    if (combinedMet) { met += 1; }
    var text = "Criteria met: " + met + " of 9";
    if (definition.threshold) {
      text += met >= definition.threshold ? " (at or above the threshold of " + definition.threshold + ")" : "";
    }
    out.textContent = text;
  }

  var update = instrument === "withdrawal_checklist" ? checklist : scale;
  form.addEventListener("change", update);
  form.addEventListener("input", update);
  update();
})();
