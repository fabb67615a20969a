// Page behaviour of govshare, as a static file so that the Content-Security-Policy needs no 'unsafe-inline'.
// Elements opt in with data attributes: data-autosubmit (a select submits its form on change),
// data-confirm="…" (a form asks before submitting), data-select-on-focus (an input selects its text),
// data-max-bytes on a form with a file input (refuses an oversized file before sending; the server checks too),
// and the item formset's "add item" button of the catalogue entry form.
(function () {
  "use strict";

  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });

  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.dataset.confirm)) { event.preventDefault(); }
    });
  });

  document.querySelectorAll("input[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  document.querySelectorAll("form[data-max-bytes]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var error = form.querySelector("[data-size-error]");
      var max = parseInt(form.dataset.maxBytes, 10);
      var tooLarge = Boolean(input && input.files.length && input.files[0].size > max);
      if (error) { error.hidden = !tooLarge; }
      if (tooLarge) { event.preventDefault(); }
    });
  });

  var button = document.getElementById("add-item");
  var rows = document.getElementById("item-rows");
  var template = document.getElementById("item-template");
  var total = document.getElementById("id_items-TOTAL_FORMS");
  if (button && rows && template && total) {
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var index = parseInt(total.value, 10);
      var html = template.innerHTML.replace(/__prefix__/g, String(index));
      rows.insertAdjacentHTML("beforeend", html);
      rows.lastElementChild.querySelector(".row-number").textContent = String(index + 1);
      total.value = String(index + 1);
      var first = rows.lastElementChild.querySelector("input");
      if (first) { first.focus(); }
    });
  }
})();
