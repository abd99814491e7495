/* accessgate's small progressive enhancements (no inline scripts: the CSP allows only files).
   - the main menu collapses behind a button on narrow screens;
   - a section menu that scrolls sideways shows its current section;
   - every command block gets a Copy button and, when it scrolls, keyboard focus;
   - after a failed submit, focus moves to the error summary or the first invalid field. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  function navToggle() {
    var nav = document.querySelector(".site-nav");
    var button = nav && nav.querySelector(".nav-toggle");
    if (!button) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var open = nav.classList.toggle("open");
      button.setAttribute("aria-expanded", open ? "true" : "false");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && nav.classList.contains("open")) {
        nav.classList.remove("open");
        button.setAttribute("aria-expanded", "false");
        button.focus();
      }
    });
  }

  function currentSectionInView() {
    // On a phone the console's section menu scrolls inside its own box: bring the current
    // section into that box (only sideways, the page itself does not move).
    var links = document.querySelectorAll("nav.section-nav [aria-current='page']");
    Array.prototype.forEach.call(links, function (link) {
      var box = link.closest("ul");
      if (!box || box.scrollWidth <= box.clientWidth) return;
      var item = link.closest("li") || link;
      box.scrollLeft = item.offsetLeft - box.offsetLeft - (box.clientWidth - item.offsetWidth) / 2;
    });
  }

  function copyButtons() {
    var blocks = document.querySelectorAll("main pre");
    Array.prototype.forEach.call(blocks, function (pre, index) {
      if (!pre.hasAttribute("tabindex")) pre.setAttribute("tabindex", "0");
      if (!pre.id) pre.id = "command-" + (index + 1);
      var wrapper = document.createElement("div");
      wrapper.className = "command";
      pre.parentNode.insertBefore(wrapper, pre);
      wrapper.appendChild(pre);
      var button = document.createElement("button");
      button.type = "button";
      button.className = "copy-button outline secondary compact";
      button.textContent = "Copy";
      button.setAttribute("aria-describedby", pre.id);
      var status = document.createElement("span");
      status.className = "visually-hidden";
      status.setAttribute("role", "status");
      wrapper.insertBefore(button, pre);
      wrapper.appendChild(status);
      button.addEventListener("click", function () {
        var text = pre.innerText.replace(/\s+$/, "") + "\n";
        var done = function () {
          button.textContent = "Copied";
          status.textContent = "Copied to the clipboard";
          setTimeout(function () { button.textContent = "Copy"; status.textContent = ""; }, 2000);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(done, function () { selectText(pre); });
        } else {
          selectText(pre);
          try { document.execCommand("copy"); done(); } catch (e) { /* selected: Ctrl+C copies */ }
        }
      });
    });
  }

  function selectText(node) {
    var range = document.createRange();
    range.selectNodeContents(node);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  function scrollableTables() {
    // A table wider than the screen scrolls inside its own box; make that box reachable
    // by keyboard and name it after its caption or the nearest heading.
    var tables = document.querySelectorAll("main table");
    Array.prototype.forEach.call(tables, function (table) {
      if (table.scrollWidth > table.clientWidth + 1 && !table.hasAttribute("tabindex")) {
        table.setAttribute("tabindex", "0");
      }
    });
  }

  function focusFirstError() {
    var summary = document.querySelector("main .form-errors, main .error-summary");
    var invalid = document.querySelector("main [aria-invalid='true']");
    var target = summary || invalid;
    if (!target) return;
    if (target === summary && !summary.hasAttribute("tabindex")) summary.setAttribute("tabindex", "-1");
    target.focus();
    if (target.scrollIntoView) target.scrollIntoView({ block: "center" });
  }

  function confirmations() {
    // A destructive button names what it does in `data-confirm`; nothing is sent until the
    // reviewer confirms.
    document.addEventListener("click", function (event) {
      var button = event.target.closest && event.target.closest("[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) event.preventDefault();
    });
  }

  function ready() {
    confirmations();
    navToggle();
    currentSectionInView();
    copyButtons();
    scrollableTables();
    focusFirstError();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
