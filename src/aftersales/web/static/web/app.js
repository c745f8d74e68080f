// aftersales agent UI: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function selectedCount(form) {
    var counter = form.querySelector("[data-selected-count]");
    if (counter) {
      counter.textContent = form.querySelectorAll("input[name=ticket_ids]:checked, input[name=rma_ids]:checked").length;
    }
  }

  // Bulk selection: "select all on this page" and the selected counter.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      var form = target.closest("form");
      form.querySelectorAll("input[name=ticket_ids], input[name=rma_ids]").forEach(function (box) {
        box.checked = target.checked;
      });
      selectedCount(form);
    } else if (target.matches("input[name=ticket_ids], input[name=rma_ids]")) {
      selectedCount(target.closest("form"));
    }
  });

  // @mention helper: picking a colleague inserts "@username " into the note at the cursor.
  // A pick from the datalist arrives as an input event without typed text; typing ends with change.
  function insertMention(input) {
    var area = document.getElementById(input.dataset.mentionFor);
    var name = input.value.replace(/^@/, "").trim();
    if (!area || !name) return;
    var at = area.selectionStart != null ? area.selectionStart : area.value.length;
    var before = area.value.slice(0, at);
    var spacer = before && !/\s$/.test(before) ? " " : "";
    var insert = spacer + "@" + name + " ";
    area.value = before + insert + area.value.slice(at);
    input.value = "";
    area.focus();
    area.selectionStart = area.selectionEnd = at + insert.length;
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches("[data-mention-for]") || (event.inputType && event.inputType !== "insertReplacementText")) return;
    var known = input.list && Array.prototype.some.call(input.list.options, function (o) { return o.value === input.value; });
    if (known) insertMention(input);
  });
  document.addEventListener("change", function (event) {
    if (event.target.matches("[data-mention-for]")) insertMention(event.target);
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter" && event.target.matches("[data-mention-for]")) {
      event.preventDefault(); // Enter picks the colleague; it must not submit the note
      insertMention(event.target);
    }
  });

  // OCR boxes over an attachment image: the boxes are in the image's pixels, so the overlay's
  // viewBox is the image's natural size, known once it has loaded (it is hidden until then).
  function fitBoxes(img) {
    var svg = img.parentNode && img.parentNode.querySelector("svg.ocr-boxes");
    if (svg && img.naturalWidth) {
      svg.setAttribute("viewBox", "0 0 " + img.naturalWidth + " " + img.naturalHeight);
      // A class, not [viewBox] in the CSS: Chromium does not restyle an SVG element when a
      // camelCase attribute appears later, so the boxes stayed hidden.
      svg.classList.add("fitted");
    }
  }
  function fitAllBoxes(root) {
    (root || document).querySelectorAll("img[data-ocr-image]").forEach(function (img) {
      if (img.complete) fitBoxes(img);
    });
  }
  document.addEventListener("load", function (event) {
    if (event.target.matches && event.target.matches("img[data-ocr-image]")) fitBoxes(event.target);
  }, true);
  document.addEventListener("htmx:afterSwap", function (event) { fitAllBoxes(event.target); });
  fitAllBoxes(document);

  // Forms that ask before they submit: <form data-confirm="Delete this?">. (No inline handlers:
  // the Content-Security-Policy allows scripts from our origin only.)
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.matches && form.matches("form[data-confirm]") && !window.confirm(form.dataset.confirm)) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);

  // Keyboard shortcuts (? shows them). Never while typing in a field, never with Ctrl/Alt/Meta,
  // except Ctrl+Enter (send) and Ctrl+Shift+Enter (send and next) in the reply box.
  function typing(el) {
    return el && (el.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(el.tagName));
  }
  function helpBox() { return document.getElementById("shortcut-help"); }
  function toggleHelp(show) {
    var box = helpBox();
    if (!box) return;
    box.hidden = show === undefined ? !box.hidden : !show;
    if (!box.hidden) { var close = box.querySelector("[data-shortcut-close]"); if (close) close.focus(); }
  }
  function ticketRows() { return Array.prototype.slice.call(document.querySelectorAll("table.tickets tr[data-ticket-id]")); }
  function moveRow(step) {
    var rows = ticketRows();
    if (!rows.length) return false;
    var at = rows.findIndex(function (r) { return r.classList.contains("is-current"); });
    var next = at < 0 ? 0 : Math.min(rows.length - 1, Math.max(0, at + step));
    rows.forEach(function (r) { r.classList.remove("is-current"); r.removeAttribute("aria-current"); });
    rows[next].classList.add("is-current");
    rows[next].setAttribute("aria-current", "true");
    rows[next].scrollIntoView({ block: "nearest" });
    return true;
  }
  function openRow() {
    var row = document.querySelector("table.tickets tr.is-current");
    var link = row && row.querySelector(".col-subject a");
    if (link) { window.location.href = link.href; return true; }
    return false;
  }
  function focusField(selector) {
    var field = document.querySelector(selector);
    if (!field) return false;
    field.scrollIntoView({ block: "center" });
    field.focus();
    return true;
  }
  function go(attr) {
    var nav = document.getElementById("ticket-nav");
    if (nav && nav.dataset[attr]) { window.location.href = nav.dataset[attr]; return true; }
    return false;
  }
  // Ticket links in the list carry the list's query string, so that a ticket knows its neighbours.
  function carryList(root) {
    if (!document.querySelector("table.tickets")) return;
    var query = window.location.search.replace(/^\?/, "");
    if (!query) return;
    (root || document).querySelectorAll("table.tickets .col-subject a[href]").forEach(function (a) {
      var url = new URL(a.href, window.location.href);
      url.searchParams.set("in", query);
      a.href = url.pathname + url.search + url.hash;
    });
  }
  carryList(document);
  document.addEventListener("htmx:afterSwap", function () { carryList(document); });
  document.addEventListener("htmx:pushedIntoHistory", function () { carryList(document); });
  document.addEventListener("keydown", function (event) {
    var key = event.key;
    if (key === "Enter" && (event.ctrlKey || event.metaKey) && event.target.closest && event.target.closest("#reply-box form")) {
      event.preventDefault();
      var button = document.getElementById(event.shiftKey ? "reply-send-next" : "reply-send");
      if (button) button.click();
      return;
    }
    if (key === "Escape") {
      var box = helpBox();
      if (box && !box.hidden) { toggleHelp(false); return; }
      if (typing(event.target)) event.target.blur();
      return;
    }
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target) || event.defaultPrevented) return;
    var done = false;
    if (key === "?") { toggleHelp(); done = true; }
    else if (helpBox() && !helpBox().hidden) return;
    else if (key === "j") done = moveRow(1) || go("next");
    else if (key === "k") done = moveRow(-1) || go("prev");
    else if (key === "o" || (key === "Enter" && !event.target.closest("a, button"))) done = openRow();
    else if (key === "u") done = go("inbox");
    else if (key === "r") done = focusField("#reply-body");
    else if (key === "n") done = focusField("#note-body");
    else if (key === "s") done = focusField("#prop-status");
    if (done) event.preventDefault();
  });
  document.addEventListener("click", function (event) {
    var box = helpBox();
    if (!box || box.hidden) return;
    if (event.target.closest("[data-shortcut-close]") || event.target === box) toggleHelp(false);
  });

  // Close open filter dropdowns when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dd[open]").forEach(function (dd) {
      if (!dd.contains(event.target)) dd.removeAttribute("open");
    });
  });
})();
