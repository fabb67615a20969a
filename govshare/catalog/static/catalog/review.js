// The review queue: "select all on this page" and the count of selected entries (the batch works without it).
(function () {
  "use strict";
  var all = document.getElementById("select-all");
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=ids][form=review-batch]"));
  var count = document.querySelector("[data-batch-count]");
  function update() {
    var n = boxes.filter(function (box) { return box.checked; }).length;
    if (count) { count.textContent = n ? count.dataset.selected.replace("{n}", String(n)) : count.dataset.empty; }
    if (all) { all.checked = n > 0 && n === boxes.length; all.indeterminate = n > 0 && n < boxes.length; }
  }
  if (count) { count.dataset.empty = count.textContent; }
  if (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      update();
    });
  }
  boxes.forEach(function (box) { box.addEventListener("change", update); });
})();
