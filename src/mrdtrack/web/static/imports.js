// The import pages (/imports): served as a file, since the CSP allows no inline script.
// 1. The upload form posts multipart/form-data with the session's CSRF token in the
//    X-CSRF-Token header, shows that the upload is under way, then follows the server's
//    redirect to the new job. Without script the form posts as it is: the server also
//    reads the csrf_token field of a multipart body.
// 2. A running job's page polls /api/v1/imports/<id> every second, shows the phase and
//    the rows done, and reloads itself once the job has finished (to show its report).
"use strict";

(function () {
  function text(node, value) {
    if (node) { node.textContent = value; }
  }

  function number(value) {
    return Number(value).toLocaleString("en-US");
  }

  function bindUpload(form) {
    var status = document.getElementById("upload-status");
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var token = form.querySelector("input[name=csrf_token]");
      var file = form.querySelector("input[name=file]");
      var limit = Number(form.dataset.maxBytes || 0);
      if (file && file.files.length && limit && file.files[0].size > limit) {
        text(status, "This file is larger than the upload limit (" + number(limit) + " bytes).");
        return;
      }
      var button = form.querySelector("button[type=submit]");
      if (button) { button.disabled = true; }
      text(status, "Uploading…");
      fetch(form.action, {
        method: "POST",
        body: new FormData(form),
        headers: { "X-CSRF-Token": token ? token.value : "" },
        credentials: "same-origin",
        redirect: "follow"
      }).then(function (response) {
        if (response.redirected) {
          window.location.assign(response.url);
          return null;
        }
        return response.text().then(function (html) {
          var page = new DOMParser().parseFromString(html, "text/html");
          var refusal = page.getElementById("upload-refusal");
          var here = document.getElementById("upload-refusal");
          if (refusal && here) {
            here.replaceWith(document.importNode(refusal, true));
            text(status, "");
          } else if (response.status === 413) {
            text(status, "This file is larger than the upload limit (" + number(limit) + " bytes).");
          } else {
            text(status, "Not imported (HTTP " + response.status + "): " +
              (page.body ? page.body.textContent.trim().slice(0, 300) : ""));
          }
          if (button) { button.disabled = false; }
        });
      }).catch(function () {
        text(status, "The upload did not reach the server: check the connection and try again.");
        if (button) { button.disabled = false; }
      });
    });
  }

  function followJob(box) {
    var phase = document.getElementById("import-phase");
    var count = document.getElementById("import-count");
    var bar = document.getElementById("import-bar");
    function poll() {
      fetch("/api/v1/imports/" + encodeURIComponent(box.dataset.job), {
        credentials: "same-origin",
        headers: { "Accept": "application/json" }
      }).then(function (response) {
        return response.ok ? response.json() : null;
      }).then(function (job) {
        if (!job) { return; }
        if (job.status !== "running") {
          window.location.reload();
          return;
        }
        var progress = job.progress;
        if (progress) {
          text(phase, progress.phase.charAt(0).toUpperCase() + progress.phase.slice(1));
          if (progress.total > 0) {
            text(count, number(progress.done) + " of " + number(progress.total) + " rows");
            if (bar) { bar.max = progress.total; bar.value = progress.done; }
          } else if (progress.done > 0) {
            text(count, number(progress.done) + " rows");
          }
        }
        window.setTimeout(poll, 1000);
      }).catch(function () {
        window.setTimeout(poll, 3000);
      });
    }
    window.setTimeout(poll, 1000);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("import-upload");
    if (form) { bindUpload(form); }
    var box = document.getElementById("import-progress");
    if (box && box.dataset.status === "running") { followJob(box); }
  });
}());
