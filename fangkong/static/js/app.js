/* Behaviour every page shares, declared in the markup instead of inline handlers (the
 * Content-Security-Policy refuses inline scripts and on…= attributes):
 *
 *   <form data-submit-once>         its submit buttons are disabled once it is sent (no double posts)
 *   <form data-confirm="question">  asks before sending; "Cancel" keeps the page as it is
 *   <button data-confirm="question"> the same for one submit button of a form
 *   <select data-autosubmit>        sends its form when the choice changes (language switch)
 */
(function () {
  "use strict";

  function submitButtons(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.type === "submit";
    });
  }

  document.addEventListener("click", function (e) {
    var button = e.target.closest && e.target.closest("button[data-confirm], input[data-confirm]");
    if (button && !window.confirm(button.dataset.confirm)) {
      e.preventDefault();
    }
  });

  document.addEventListener("submit", function (e) {
    var form = e.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
      e.preventDefault();
      return;
    }
    if (e.defaultPrevented || !form.hasAttribute("data-submit-once")) {
      return;
    }
    // After the event: a button disabled now would drop its own name=value from the request.
    setTimeout(function () {
      submitButtons(form).forEach(function (b) {
        if (!b.disabled) {
          b.disabled = true;
          b.dataset.sentOnce = "1";
        }
      });
    }, 0);
  });

  // Back to a page kept in the browser's cache: the buttons disabled above work again.
  window.addEventListener("pageshow", function (e) {
    if (!e.persisted) {
      return;
    }
    document.querySelectorAll("[data-sent-once]").forEach(function (b) {
      b.disabled = false;
      delete b.dataset.sentOnce;
    });
  });

  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("select[data-autosubmit]") && e.target.form) {
      e.target.form.submit();
    }
  });
})();
