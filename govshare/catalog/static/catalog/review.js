// The review queue: "select all on this page" and the count of selected entries (the batch works without it).
// Two "select all" boxes: the table header's, and the batch bar's that stands in for it when rows are cards (phone).
(function () {
  "use strict";
  var alls = Array.prototype.slice.call(document.querySelectorAll("input[data-select-all]"));
  var boxes = Array.prototype.slice.call(document.querySelectorAll("input[name=ids][form=review-batch]"));
  var count = document.querySelector("[data-batch-count]");
  function update() {
    var n = boxes.filter(function (box) { return box.checked; }).length;
    if (count) { count.textContent = n ? count.dataset.selected.replace("{n}", String(n)) : count.dataset.empty; }
    alls.forEach(function (all) {
      all.checked = n > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    });
  }
  if (count) { count.dataset.empty = count.textContent; }
  alls.forEach(function (all) {
    all.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = all.checked; });
      update();
    });
  });
  boxes.forEach(function (box) { box.addEventListener("change", update); });
})();
