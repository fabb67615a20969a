// The scenario form: an item picked from the published resources' names (a datalist) is added to the needed
// items, one per line, with the 添加 button or Enter. Without scripts the picked name is sent and the server adds it.
(function () {
  "use strict";
  var picker = document.getElementById("id_pick_item");
  var list = document.getElementById("id_needed_items");
  var button = document.querySelector("button[data-add-item]");
  if (!picker || !list || !button) {
    return;
  }
  button.hidden = false;
  var add = function () {
    var name = picker.value.trim();
    if (!name) {
      return;
    }
    var lines = list.value.split("\n").map(function (line) { return line.trim(); }).filter(Boolean);
    if (lines.indexOf(name) === -1) {
      lines.push(name);
    }
    list.value = lines.join("\n");
    picker.value = "";
    picker.focus();
  };
  button.addEventListener("click", add);
  picker.addEventListener("keydown", function (event) {
    if (event.key === "Enter") {
      event.preventDefault();
      add();
    }
  });
})();
