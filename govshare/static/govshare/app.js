// Page behaviour of govshare, as a static file so that the Content-Security-Policy needs no 'unsafe-inline'.
// The top bar's menu button folds the menu on a phone. Elements opt in with data attributes: data-autosubmit (a
// select submits its form on change),
// data-confirm="…" (a form asks before submitting), data-select-on-focus (an input selects its text),
// data-max-bytes on a form with a file input (refuses an oversized file before sending; the server checks too),
// the item formset's "add item" button of the catalogue entry form, and its suggestion next to an item named like
// personal data (data-item-hints on the items table: the server's words and texts, shown while a name is typed),
// and fields that apply only while another field has some values (data-show-when="<field>" data-show-values="a b",
// from govshare/core/formfields.py): hidden and not sent otherwise, marked required (*) while shown if
// data-required-when-shown; a field showing an error stays visible.
(function () {
  "use strict";

  // The top bar's menu button (shown by this script, so that without scripts the menu stays open): on a phone the
  // menu starts folded and the button opens and closes it; Escape closes it and gives the button the focus back.
  // On a wide screen the stylesheet hides the button and always shows the menu.
  var toggle = document.querySelector("button.nav-toggle");
  var topbar = toggle && toggle.closest(".topbar");
  if (toggle && topbar) {
    var setOpen = function (open) {
      topbar.classList.toggle("nav-open", open);
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    };
    topbar.classList.add("nav-collapsible");
    toggle.hidden = false;
    setOpen(false);
    toggle.addEventListener("click", function () {
      setOpen(toggle.getAttribute("aria-expanded") !== "true");
    });
    topbar.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && topbar.classList.contains("nav-open")) {
        setOpen(false);
        toggle.focus();
      }
    });
  }

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

  document.querySelectorAll("[data-show-when]").forEach(function (control) {
    var field = control.closest(".field");
    var controller = control.form && control.form.elements.namedItem(control.dataset.showWhen);
    if (!field || !controller) { return; }
    var values = (control.dataset.showValues || "").split(" ");
    var group = control.type === "checkbox";
    var disabled = control.disabled;  // a field the server disabled stays so
    function update() {
      var shown = values.indexOf(controller.value) !== -1 || field.classList.contains("has-error");
      field.hidden = !shown;
      control.disabled = disabled || !shown;
      if (control.hasAttribute("data-required-when-shown")) {
        field.classList.toggle("required", shown);
        if (!group) { control.required = shown; }
      }
    }
    controller.addEventListener("change", update);
    update();
  });

  var hinted = document.querySelector("table[data-item-hints]");
  if (hinted) {
    var hints = JSON.parse(hinted.dataset.itemHints || "[]");
    // One listener on the table, so that rows added later get suggestions too.
    hinted.addEventListener("input", function (event) {
      var input = event.target;
      if (!input.name || !/-name$/.test(input.name)) { return; }
      var hint = input.parentElement.querySelector("[data-item-hint]");
      if (!hint) { return; }
      var name = input.value.trim();
      var found = null;
      if (name) {
        hints.some(function (row) {
          if (row.words.some(function (word) { return name.indexOf(word) !== -1; })) { found = row; }
          return found !== null;
        });
      }
      hint.textContent = found ? found.text : "";
      hint.hidden = !found;
    });
  }
})();
