"""Checks that a message shown to an English reader carries no Chinese of the platform's own."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

CJK = re.compile(r"[\u4e00-\u9fff]")


def chinese_in(messages: Iterable[str], *, user_data: Iterable[str] = ()) -> list[str]:
    """The messages that still hold Chinese once the user's own data (entry names, cell values…) is taken out."""
    found = []
    for message in messages:
        text = message
        for value in user_data:
            text = text.replace(value, "")
        if CJK.search(text):
            found.append(message)
    return found


# The page's interface texts that hold Chinese, each "where: text". Content in Chinese is skipped: what is inside
# an element whose lang is zh… (entry, item and department names, people's names, typed text, as the templates
# mark them) and, where no element can mark it (the document's title, an option's text, a message, an attribute),
# the texts marked so elsewhere on the page. The texts checked are the text nodes (hidden ones too: a message the
# script shows later is interface), the document's title, the attributes people read (title, placeholder,
# aria-label, alt, label, an input button's value, the confirmation a form's data-confirm asks, a card cell's
# data-label, the review queue's selection count) and the messages of the item-name suggestions.
INTERFACE_CHINESE_SCRIPT = r"""
() => {
  const cjk = /[\u4e00-\u9fff]/;
  const marked = (element) => {
    const scope = element && element.closest("[lang]");
    return Boolean(scope) && scope.getAttribute("lang").toLowerCase().startsWith("zh");
  };
  const contents = Array.from(document.querySelectorAll("body [lang]"))
    .filter(marked)
    .map((element) => element.textContent.trim())
    .filter((text) => text)
    .sort((a, b) => b.length - a.length);
  const withoutContent = (text) => contents.reduce((rest, content) => rest.split(content).join(""), text);
  const where = (element) => {
    let name = element.tagName.toLowerCase();
    if (element.id) { name += "#" + element.id; }
    if (element.classList.length) { name += "." + Array.from(element.classList).join("."); }
    const parent = element.parentElement;
    return parent && parent !== document.body ? where(parent).split(" ").slice(-2).join(" ") + " " + name : name;
  };
  const found = [];
  const check = (place, text) => {
    if (cjk.test(withoutContent(text))) { found.push(place + ": " + text.trim()); }
  };
  check("title", document.title);
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    // A text area's text is its value: what the user typed, not the interface.
    if (["SCRIPT", "TEXTAREA"].includes(parent.tagName) || marked(parent) || !cjk.test(node.nodeValue)) { continue; }
    // An option and a message (the views' plain text) cannot mark the names they quote.
    if (parent.tagName === "OPTION" || parent.closest(".messages")) { check(where(parent), node.nodeValue); }
    else { found.push(where(parent) + ": " + node.nodeValue.trim()); }
  }
  const attributes = [
    "title", "placeholder", "aria-label", "alt", "label", "data-confirm", "data-label", "data-selected",
  ];
  document.querySelectorAll("*").forEach((element) => {
    if (marked(element)) { return; }
    attributes.forEach((attribute) => {
      const value = element.getAttribute(attribute);
      if (value) { check(where(element) + " [" + attribute + "]", value); }
    });
    if (element.matches("input[type=submit], input[type=button]")) {
      check(where(element) + " [value]", element.value);
    }
  });
  document.querySelectorAll("[data-item-hints]").forEach((element) => {
    JSON.parse(element.dataset.itemHints || "[]").forEach((hint) => {
      check(where(element) + " [data-item-hints]", hint.text);
    });
  });
  return found;
}
"""


def interface_chinese(page: Any) -> list[str]:
    """The Chinese left in a Playwright page's interface (`INTERFACE_CHINESE_SCRIPT`), each as "where: text"."""
    return [str(text) for text in page.evaluate(INTERFACE_CHINESE_SCRIPT)]
