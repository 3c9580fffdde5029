/* Upload with a progress bar (progressive enhancement): without JavaScript the form posts normally.
   With it, the file goes through XMLHttpRequest so that upload progress can be shown in a <progress>;
   the CSRF token travels in the X-CSRF-Token header (and the form's query string), never in the body,
   so the server can stream the upload without parsing the form first. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest || !window.FormData) return;
  var box = document.getElementById("upload-progress");
  var bar = box ? box.querySelector("progress") : null;
  var status = document.getElementById("upload-status");
  var errorBox = document.getElementById("upload-error");
  var button = form.querySelector("button[type=submit]");
  var lang = document.documentElement.lang || "en";
  var texts = {
    en: { sending: "Uploading… %s%", checking: "Checking the file…", failed: "The upload failed. Check your connection and try again." },
    fr: { sending: "Envoi… %s %", checking: "Vérification du fichier…", failed: "L’envoi a échoué. Vérifiez votre connexion et réessayez." },
    ar: { sending: "جارٍ الرفع… %s٪", checking: "جارٍ التحقق من الملف…", failed: "فشل الرفع. تحقق من اتصالك وأعد المحاولة." }
  };
  var t = texts[lang] || texts.en;

  function showError(message) {
    if (!errorBox) return;
    errorBox.textContent = "";
    var p = document.createElement("p");
    var strong = document.createElement("strong");
    strong.textContent = message;
    p.appendChild(strong);
    errorBox.appendChild(p);
    errorBox.hidden = false;
    errorBox.focus && errorBox.focus();
  }

  function reset() {
    if (button) button.disabled = false;
    if (box) box.hidden = true;
  }

  form.addEventListener("submit", function (event) {
    var input = form.querySelector("input[type=file]");
    if (!input || !input.files || !input.files.length) return; // let the browser say the field is required
    event.preventDefault();
    if (errorBox) errorBox.hidden = true;
    if (button) button.disabled = true;
    if (box) box.hidden = false;
    if (bar) { bar.value = 0; bar.max = 100; }
    var data = new FormData();
    data.append("file", input.files[0]);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf") || "");
    xhr.upload.addEventListener("progress", function (e) {
      if (!e.lengthComputable) return;
      var percent = Math.floor((e.loaded / e.total) * 100);
      if (bar) bar.value = percent;
      if (status) status.textContent = t.sending.replace("%s", String(percent));
    });
    xhr.upload.addEventListener("load", function () {
      if (bar) bar.removeAttribute("value"); // indeterminate while the server checks and analyses
      if (status) status.textContent = t.checking;
    });
    xhr.addEventListener("load", function () {
      if (xhr.status >= 200 && xhr.status < 300 && xhr.responseURL) {
        window.location.assign(xhr.responseURL); // the 303 was followed: go to the dataset page
        return;
      }
      var message = t.failed;
      try {
        var doc = new DOMParser().parseFromString(xhr.responseText, "text/html");
        var found = doc.getElementById("upload-error") || doc.querySelector(".error-page p, main p");
        if (found && found.textContent.trim()) message = found.textContent.trim();
      } catch (ignored) { /* keep the generic message */ }
      reset();
      showError(message);
    });
    xhr.addEventListener("error", function () { reset(); showError(t.failed); });
    xhr.addEventListener("abort", function () { reset(); });
    xhr.send(data);
  });
})();
