// Trace's pages: the little behaviour the HTML cannot express alone.
// Loaded from our origin (no inline script: the CSP forbids it).
(function () {
  "use strict";

  // Ask before destructive forms (revoke, disconnect, delete, restore).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
    }
  }, true);

  // Copy buttons: <button data-copy="ID"> copies the text of element ID.
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source || !navigator.clipboard) { return; }
    navigator.clipboard.writeText(source.textContent).then(function () {
      var label = button.textContent;
      button.textContent = "Copied";
      setTimeout(function () { button.textContent = label; }, 1500);
    });
  });

  // Time zone: on first sign-in (zone still the default), propose the browser's.
  var proposal = document.getElementById("tz-proposal");
  var zone = window.Intl && Intl.DateTimeFormat().resolvedOptions().timeZone;
  var asked = false;
  try { asked = window.localStorage.getItem("trace-tz-asked") === "1"; } catch (e) { asked = false; }
  function remember() {
    try { window.localStorage.setItem("trace-tz-asked", "1"); } catch (e) { /* private mode */ }
  }
  if (proposal && zone && !asked && zone !== proposal.getAttribute("data-current")) {
    proposal.querySelector("input[name=time_zone]").value = zone;
    proposal.querySelector("[data-zone-name]").textContent = zone;
    proposal.hidden = false;
    proposal.addEventListener("submit", remember);
    proposal.querySelector("[data-keep-zone]").addEventListener("click", function () {
      remember();
      proposal.hidden = true;
    });
  }

  // Images: drop files on the page or paste them; they go through the upload form.
  function uploadFiles(files) {
    var form = document.getElementById("upload-form");
    var input = form && form.querySelector("input[type=file]");
    if (!input || !files || !files.length) { return false; }
    var transfer = new DataTransfer();
    for (var i = 0; i < files.length; i++) { transfer.items.add(files[i]); }
    input.files = transfer.files;
    form.requestSubmit ? form.requestSubmit() : form.submit();
    return true;
  }

  document.addEventListener("dragover", function (event) {
    if (document.getElementById("upload-form")) {
      event.preventDefault();
      document.body.classList.add("dragging");
    }
  });
  document.addEventListener("dragleave", function () {
    document.body.classList.remove("dragging");
  });
  document.addEventListener("drop", function (event) {
    if (!document.getElementById("upload-form")) { return; }
    event.preventDefault();
    document.body.classList.remove("dragging");
    uploadFiles(event.dataTransfer && event.dataTransfer.files);
  });
  document.addEventListener("paste", function (event) {
    var items = event.clipboardData && event.clipboardData.files;
    if (items && items.length && uploadFiles(items)) { event.preventDefault(); }
  });
})();
