/* New finding: "再加一行证据" adds another evidence line, a copy of the last one with the next
 * index and empty values. */
(function () {
  "use strict";

  function addLine() {
    var lines = document.querySelectorAll("#evidence-lines .evidence-line");
    var last = lines[lines.length - 1];
    var next = lines.length;
    var copy = last.cloneNode(true);
    copy.dataset.line = next;
    copy.querySelectorAll(".has-error").forEach(function (el) { el.classList.remove("has-error"); });
    var errors = copy.querySelector(".errorlist");
    if (errors) errors.remove();
    copy.querySelectorAll("select, input").forEach(function (el) {
      el.name = el.name.replace(/_\d+$/, "_" + next);
      if (el.id) el.id = el.id.replace(/_\d+$/, "_" + next);
      el.value = "";
    });
    last.after(copy);
    copy.querySelector("select").focus();
  }

  function start() {
    var button = document.getElementById("add-line");
    if (button) button.addEventListener("click", addLine);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
