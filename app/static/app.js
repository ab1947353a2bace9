// Daojiao portal behaviour: job progress, source highlights, fields to check, ID reveal,
// confirmations.
// Served from the app itself (CSP: script-src 'self'); no inline scripts anywhere.
(function () {
  "use strict";

  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  // While the page is being left (a link, a form, logging out) it asks nothing more: a last
  // poll would only be refused once the session is gone. A download also says "leaving" but
  // the page stays: after two seconds it asks again.
  var leaving = false;
  window.addEventListener("beforeunload", function () {
    leaving = true;
    window.setTimeout(function () { leaving = false; }, 2000);
  });


  // Background jobs: poll their status until they finish; reload where the page asks to. The
  // status line is a polite live region and the error line an alert (app/templates/_job.html);
  // the progress bar goes away once the job has finished.
  function watchJob(box) {
    var id = box.getAttribute("data-job-id");
    var bar = box.querySelector("progress");
    var status = box.querySelector(".job-status");
    var message = box.querySelector(".job-message");
    var error = box.querySelector(".job-error");
    // Most jobs take a second or two: ask soon, then less and less often (at most once a second).
    var delay = 150;
    function later() {
      window.setTimeout(poll, delay);
      delay = Math.min(delay * 1.5, 1000);
    }
    function poll() {
      if (leaving) { later(); return; }
      fetch("/api/v1/jobs/" + id, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (job) {
          if (!job) { return; }
          var running = job.status === "queued" || job.status === "running";
          bar.value = job.progress;
          bar.hidden = !running;
          status.textContent = job.status_label || job.status;
          message.textContent = job.message || "";
          box.setAttribute("data-job-status", job.status);
          if (job.status === "failed" && job.error) { error.textContent = job.error.message; }
          if (running) {
            later();
          } else if (box.closest("[data-reload-when-done]")) {
            document.documentElement.setAttribute("data-reloading", "1");  // the page is being replaced
            window.location.reload();
          }
        })
        .catch(function () { window.setTimeout(poll, 3000); });
    }
    var current = box.getAttribute("data-job-status");
    if (current === "queued" || current === "running") { later(); }
  }
  document.querySelectorAll("[data-job-id]").forEach(watchJob);

  // Review: focusing a field highlights where it was read on the page image.
  function highlight(path) {
    document.querySelectorAll(".hl.active").forEach(function (rect) { rect.classList.remove("active"); });
    if (!path) { return; }
    var rect = document.querySelector('.hl[data-field="' + path.replace(/"/g, "") + '"]');
    if (!rect) { return; }
    rect.classList.add("active");
    rect.scrollIntoView({ block: "center", behavior: "smooth" });
  }
  document.querySelectorAll("[data-field]").forEach(function (input) {
    if (input.classList.contains("hl")) { return; }
    input.addEventListener("focus", function () { highlight(input.getAttribute("data-field")); });
  });
  document.querySelectorAll(".hl").forEach(function (rect) {
    rect.addEventListener("click", function () {
      var input = document.querySelector('input[data-field="' + rect.getAttribute("data-field") + '"], ' +
        'textarea[data-field="' + rect.getAttribute("data-field") + '"], ' +
        'select[data-field="' + rect.getAttribute("data-field") + '"]');
      if (input) { input.focus(); }
    });
  });

  // The review's list of fields to check: a link takes the reader into its field (and so, by the
  // focus handler above, to where the value was read on the page).
  document.querySelectorAll("[data-focus]").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("data-focus"));
      if (!target) { return; }
      event.preventDefault();
      target.scrollIntoView({ block: "center" });
      target.focus();
    });
  });

  // A table wider than its box scrolls inside it: keyboard users reach it with Tab (then the
  // arrow keys scroll it); one that fits is no tab stop.
  function scrollableTables() {
    document.querySelectorAll(".table-responsive").forEach(function (box) {
      if (box.scrollWidth > box.clientWidth) {
        box.setAttribute("tabindex", "0");
      } else {
        box.removeAttribute("tabindex");
      }
    });
  }
  scrollableTables();
  window.addEventListener("resize", scrollableTables);

  // A form refused with errors: its summary takes the focus, and its links the reader to a field.
  var summary = document.querySelector("[data-error-summary]");
  if (summary) { summary.focus(); }
  document.querySelectorAll("[data-error-summary] a[href^='#']").forEach(function (link) {
    link.addEventListener("click", function (event) {
      var target = document.getElementById(link.getAttribute("href").slice(1));
      if (!target) { return; }
      event.preventDefault();
      target.scrollIntoView({ block: "center" });
      target.focus();
    });
  });

  // Buttons that need a second thought.
  document.querySelectorAll("[data-confirm]").forEach(function (button) {
    button.addEventListener("click", function (event) {
      if (!window.confirm(button.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });

  // Masked ID numbers: reveal one on request (the server logs it).
  document.querySelectorAll("[data-reveal-url]").forEach(function (button) {
    button.addEventListener("click", function () {
      fetch(button.getAttribute("data-reveal-url"), {
        method: "POST", credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": csrfToken() }
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (body) {
          if (!body) { return; }
          var target = document.getElementById(button.getAttribute("data-target"));
          if (target) { target.textContent = body.id_number; }
          button.remove();
        });
    });
  });
})();
