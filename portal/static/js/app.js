// Portal behaviour that must not live inline (CSP: script-src 'self').
(function () {
  "use strict";

  function bind(root) {
    // Dismissible notices.
    root.querySelectorAll("[data-dismiss]").forEach(function (btn) {
      if (btn.dataset.bound) return;
      btn.dataset.bound = "1";
      btn.addEventListener("click", function () {
        var box = btn.closest(".notice");
        if (box) box.remove();
      });
    });
    // Selects that submit their form on change (language switch, filters).
    root.querySelectorAll("select[data-autosubmit]").forEach(function (sel) {
      if (sel.dataset.bound) return;
      sel.dataset.bound = "1";
      sel.addEventListener("change", function () {
        if (sel.form) sel.form.requestSubmit ? sel.form.requestSubmit() : sel.form.submit();
      });
    });
    // Confirmation on destructive buttons.
    root.querySelectorAll("[data-confirm]").forEach(function (el) {
      if (el.dataset.boundConfirm) return;
      el.dataset.boundConfirm = "1";
      el.addEventListener("click", function (ev) {
        if (!window.confirm(el.dataset.confirm)) ev.preventDefault();
      });
    });
    // Print buttons.
    root.querySelectorAll("[data-print]").forEach(function (el) {
      if (el.dataset.boundPrint) return;
      el.dataset.boundPrint = "1";
      el.addEventListener("click", function () { window.print(); });
    });
  }

  document.addEventListener("DOMContentLoaded", function () { bind(document); });
  document.addEventListener("htmx:load", function (ev) { bind(ev.detail.elt.parentNode || document); });
  // Show the error page's title and message as a notice (htmx does not swap error responses).
  function showError(xhr) {
    var title = "", message = "";
    try {
      var doc = new DOMParser().parseFromString(xhr.responseText || "", "text/html");
      var h1 = doc.querySelector(".error-page h1");
      var p = doc.querySelector(".error-page h1 + p");
      title = h1 ? h1.textContent.trim() : "";
      message = p ? p.textContent.trim() : "";
    } catch (e) { /* not HTML */ }
    var notices = document.getElementById("notices");
    if (!notices) return;
    var box = document.createElement("div");
    box.className = "notice notice-error";
    box.setAttribute("role", "alert");
    var text = document.createElement("span");
    text.textContent = (title || ("HTTP " + xhr.status)) + (message ? ": " + message : "");
    var close = document.createElement("button");
    close.type = "button";
    close.className = "dismiss";
    close.setAttribute("data-dismiss", "");
    close.setAttribute("aria-label", "×");
    close.textContent = "×";
    box.appendChild(text);
    box.appendChild(close);
    notices.appendChild(box);
    bind(notices);
  }

  // A session that expired mid-request: htmx follows HX-Redirect; for a 401 without it, reload.
  document.addEventListener("htmx:responseError", function (ev) {
    var xhr = ev.detail.xhr;
    if (!xhr) return;
    if (xhr.status === 401) {
      if (!xhr.getResponseHeader("HX-Redirect")) window.location.reload();
      return;
    }
    showError(xhr);
  });
})();
