// aftersales agent UI: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function selectedCount(form) {
    var counter = form.querySelector("[data-selected-count]");
    if (counter) {
      counter.textContent = form.querySelectorAll("input[name=ticket_ids]:checked").length;
    }
  }

  // Bulk selection: "select all on this page" and the selected counter.
  document.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-select-all]")) {
      var form = target.closest("form");
      form.querySelectorAll("input[name=ticket_ids]").forEach(function (box) {
        box.checked = target.checked;
      });
      selectedCount(form);
    } else if (target.matches("input[name=ticket_ids]")) {
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

  // Close open filter dropdowns when clicking elsewhere.
  document.addEventListener("click", function (event) {
    document.querySelectorAll("details.dd[open]").forEach(function (dd) {
      if (!dd.contains(event.target)) dd.removeAttribute("open");
    });
  });
})();
