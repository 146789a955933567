/* Health check-in: show the follow-up questions only when they apply, so a healthy household
 * is quick to report. */
(function () {
  "use strict";

  function start() {
    document.querySelectorAll("fieldset.subject").forEach(function (fs) {
      function sync() {
        var q = fs.querySelector("select[name$='quarantine']");
        var other = fs.querySelector("input[name$='symptoms'][value='other']");
        fs.querySelectorAll(".field-quarantine_place, .field-quarantine_start").forEach(function (el) {
          el.hidden = q && q.value === "none" && !el.classList.contains("has-error");
        });
        fs.querySelectorAll(".field-symptom_other").forEach(function (el) {
          el.hidden = other && !other.checked && !el.classList.contains("has-error");
        });
      }
      fs.addEventListener("change", sync);
      sync();
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
