// What a few forms do beyond HTML, kept out of the pages so that the Content-Security-Policy
// can refuse every inline script and event handler:
//   <form data-confirm="question">: asks the question first, and sends only on OK;
//   <textarea data-enter-submits>: Enter sends the form (a handheld scanner types a code,
//   then Enter);
//   [data-error-summary]: the focus moves to a form's error summary when the page loads with
//   one, or when htmx swaps one in, so that a screen reader reads what went wrong first.
(function () {
  "use strict";
  function focusErrorSummary(region) {
    var summary = region.querySelector("[data-error-summary]");
    if (summary) { summary.focus(); }
  }
  document.addEventListener("DOMContentLoaded", function () { focusErrorSummary(document); });
  document.addEventListener("htmx:afterSwap", function (event) {
    focusErrorSummary(event.detail.target);
  });
  document.addEventListener("submit", function (event) {
    var question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
  document.addEventListener("keydown", function (event) {
    var field = event.target;
    if (event.key === "Enter" && field instanceof HTMLTextAreaElement &&
        field.hasAttribute("data-enter-submits")) {
      event.preventDefault();
      field.form.requestSubmit();
    }
  });
})();
