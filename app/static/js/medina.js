/* Medina: small progressive enhancements. No dependencies, no inline handlers. */
(function () {
  "use strict";
  document.documentElement.classList.add("js");

  // (a) Confirm before submitting forms marked with data-confirm="message". Their "I confirm" box
  // (templates/_macros/confirm.html), which readers without JavaScript tick by hand, is hidden and ticked
  // here once the reader has said yes.
  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!(form instanceof HTMLFormElement)) return;
    const message = form.getAttribute("data-confirm");
    if (!message) return;
    if (!window.confirm(message)) { event.preventDefault(); return; }
    form.querySelectorAll("[data-confirm-box] input[type=checkbox]").forEach(function (box) { box.checked = true; });
  });
  function askInsteadOfBoxes(root) {
    root.querySelectorAll("form[data-confirm] [data-confirm-box]").forEach(function (label) {
      label.classList.add("js-hidden");
      const box = label.querySelector("input[type=checkbox]");
      if (box) box.required = false;
    });
  }

  // (c) Copy-to-clipboard for buttons with data-copy-target="#id".
  async function copyFrom(button) {
    const target = document.querySelector(button.getAttribute("data-copy-target"));
    if (!target) return;
    const text = "value" in target ? target.value : target.textContent.trim();
    const original = button.textContent;
    try {
      await navigator.clipboard.writeText(text);
      button.textContent = button.getAttribute("data-copied-label") || "Copied";
    } catch (err) {
      const range = document.createRange(); // Fallback: select text for manual copy.
      range.selectNodeContents(target);
      const selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    window.setTimeout(function () { button.textContent = original; }, 2000);
  }
  document.addEventListener("click", function (event) {
    const button = event.target.closest ? event.target.closest("[data-copy-target]") : null;
    if (button) { event.preventDefault(); copyFrom(button); }
  });

  // (d) A deadline shown in the programme's time zone also gets the reader's own local time, when it differs:
  // <time datetime="…" data-zone="Africa/Casablanca" data-local-label="your time">.
  function addLocalTimes(root) {
    const mine = Intl.DateTimeFormat().resolvedOptions().timeZone;
    root.querySelectorAll("time[data-zone]").forEach(function (el) {
      if (el.dataset.localDone || el.dataset.zone === mine) return;
      const when = new Date(el.getAttribute("datetime"));
      if (isNaN(when)) return;
      const options = { dateStyle: "full", timeStyle: "short" };
      const lang = document.documentElement.lang || undefined;
      const here = new Intl.DateTimeFormat(lang, options).format(when);
      const there = new Intl.DateTimeFormat(lang, Object.assign({ timeZone: el.dataset.zone }, options)).format(when);
      if (here === there) return;
      const note = document.createElement("span");
      note.className = "local-time";
      note.textContent = " (" + (el.dataset.localLabel || "your time") + ": " + here + ")";
      el.after(note);
      el.dataset.localDone = "1";
    });
  }

  // (e) A table wider than its box scrolls sideways: its box can then take keyboard focus (arrow keys scroll
  // it) and is a region named by the table's caption or the nearest heading above it. Templates mark the
  // tables they know are wide themselves (tabindex="0"); this covers the others, and only when they scroll.
  function focusableScrollingTables(root) {
    root.querySelectorAll(".table-wrap:not([tabindex])").forEach(function (wrap) {
      if (wrap.scrollWidth <= wrap.clientWidth + 1) return;
      wrap.tabIndex = 0;
      wrap.setAttribute("role", "region");
      if (wrap.hasAttribute("aria-label") || wrap.hasAttribute("aria-labelledby")) return;
      const caption = wrap.querySelector("caption");
      let heading = null;
      for (let node = wrap; node && !heading; node = node.parentElement) {
        for (let sibling = node.previousElementSibling; sibling && !heading; sibling = sibling.previousElementSibling) {
          if (/^H[1-6]$/.test(sibling.tagName)) heading = sibling;
        }
      }
      const name = (caption || heading || document.querySelector("h1") || {}).textContent;
      if (name) wrap.setAttribute("aria-label", name.trim());
    });
  }

  document.addEventListener("htmx:afterSwap", function (event) { askInsteadOfBoxes(event.target); });

  function init() {
    addLocalTimes(document);
    askInsteadOfBoxes(document);
    focusableScrollingTables(document);
    // (b) Language switcher auto-submits on change; hide its fallback button.
    document.querySelectorAll("form.lang-switch").forEach(function (form) {
      const select = form.querySelector("select");
      if (!select) return;
      form.querySelectorAll("button, input[type=submit]").forEach(function (b) {
        b.classList.add("js-hidden");
      });
      select.addEventListener("change", function () {
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
