/* Behaviour of every page that the Content-Security-Policy (script-src 'self', sme/settings.py)
   keeps out of the templates: no onsubmit or onclick attributes there, only data- attributes
   read here.
     <form data-confirm="确定……吗？">  asks before the form is sent;
     <button type="button" data-print> prints the page. */
(function () {
  "use strict";

  // Capturing, so that the question comes before any other listener of the form (htmx's) acts.
  document.addEventListener(
    "submit",
    function (event) {
      var form = event.target;
      if (!(form instanceof HTMLFormElement)) return;
      var question = form.getAttribute("data-confirm");
      if (question && !window.confirm(question)) {
        event.preventDefault();
        event.stopPropagation();
      }
    },
    true
  );

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (target instanceof Element && target.closest("[data-print]")) window.print();
  });
})();
