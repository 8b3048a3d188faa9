// What a few forms do beyond HTML, kept out of the pages so that the Content-Security-Policy
// can refuse every inline script and event handler:
//   <form data-confirm="question">: asks the question first, and sends only on OK;
//   <textarea data-enter-submits>: Enter sends the form (a handheld scanner types a code,
//   then Enter).
(function () {
  "use strict";
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
