/* Medina's scorecard: keyboard scoring and autosaved drafts. Progressive enhancement only: without it the
   form works as it is (radio buttons, Save draft, Submit). No dependencies, no inline handlers. */
(function () {
  "use strict";
  const form = document.getElementById("review-form");
  if (!form) return;

  const AUTOSAVE_DELAY_MS = 3000;  // a draft is saved this long after the last change
  const DIGITS_WINDOW_MS = 700;    // "1" then "0" within this time scores 10 on a scale that reaches it

  // (a) Number keys score the criterion in focus; "." or "," adds a half point where the scale has halves.
  // Enter submits with the form's default button ("Submit and next" when a proposal is left to score).
  let typed = "";
  let typedAt = 0;
  let typedGroup = null;

  function optionsOf(input) {
    return Array.from(form.querySelectorAll("input[type=radio][name='" + CSS.escape(input.name) + "']"));
  }

  function choose(options, value) {
    const match = options.find(function (o) { return Number(o.value) === value; });
    if (!match) return false;
    match.checked = true;
    match.focus();
    match.dispatchEvent(new Event("change", { bubbles: true }));
    return true;
  }

  form.addEventListener("keydown", function (event) {
    const target = event.target;
    if (!(target instanceof HTMLInputElement) || !target.hasAttribute("data-score")) return;
    if (event.altKey || event.ctrlKey || event.metaKey) return;
    const options = optionsOf(target);
    if (/^[0-9]$/.test(event.key)) {
      event.preventDefault();
      const now = Date.now();
      typed = typedGroup === target.name && now - typedAt < DIGITS_WINDOW_MS ? typed + event.key : event.key;
      typedAt = now;
      typedGroup = target.name;
      if (!choose(options, Number(typed))) { typed = event.key; choose(options, Number(typed)); }
    } else if (event.key === "." || event.key === ",") {
      event.preventDefault();
      const current = options.find(function (o) { return o.checked; });
      if (current) choose(options, Number(current.value) + 0.5);
    } else if (event.key === "Enter") {
      event.preventDefault();
      const button = form.querySelector("button[data-default]");
      if (button) form.requestSubmit(button);
    }
  });

  // On a wide screen the scorecard sits beside the proposal: start in its first criterion (the first one at
  // fault after a refused submission), so that the keys work at once. On a phone the proposal comes first
  // and is read before scrolling to the scorecard.
  if (window.matchMedia("(min-width: 60rem)").matches && form.hasAttribute("data-autosave")) {
    const first = form.querySelector("[data-criterion].field--invalid") || form.querySelector("[data-criterion]");
    if (first) {
      const start = first.querySelector("input[data-score]:checked") || first.querySelector("input[data-score], input");
      if (start) start.focus({ preventScroll: true });
    }
  }

  // (b) Autosave: the draft is posted a few seconds after the last change; the answer is the status line and
  // the review's new revision (templates/jury/_autosave.html). A submission waits for a save under way, so
  // that it starts from the revision that save made.
  const url = form.getAttribute("data-autosave");
  if (!url) return;
  let timer = null;
  let inFlight = null;

  function payload() {
    const data = new URLSearchParams();
    new FormData(form).forEach(function (value, key) {
      if (key !== "action" && typeof value === "string") data.append(key, value);
    });
    return data;
  }

  function apply(html) {
    const answer = new DOMParser().parseFromString(html, "text/html");
    const status = answer.getElementById("review-autosave");
    const shown = document.getElementById("review-autosave");
    if (status && shown) shown.replaceWith(document.importNode(status, true));
    const revision = answer.getElementById("review-revision");
    const field = document.getElementById("review-revision");
    if (revision && field) field.value = revision.value;
  }

  function save() {
    timer = null;
    inFlight = fetch(url, {
      method: "POST",
      body: payload(),
      credentials: "same-origin",
      headers: { "Content-Type": "application/x-www-form-urlencoded" },
    })
      .then(function (response) { return response.text(); })
      .then(apply)
      .catch(function () { /* offline for a moment: the next change, or the buttons, save it */ })
      .finally(function () { inFlight = null; });
    return inFlight;
  }

  function schedule() {
    if (timer) window.clearTimeout(timer);
    timer = window.setTimeout(save, AUTOSAVE_DELAY_MS);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);

  form.addEventListener("submit", function (event) {
    if (timer) { window.clearTimeout(timer); timer = null; }  // the submission carries everything typed
    if (!inFlight) return;
    event.preventDefault();
    const submitter = event.submitter;
    inFlight.then(function () { form.requestSubmit(submitter || undefined); });
  });
})();
