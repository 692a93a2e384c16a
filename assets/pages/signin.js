// Copy button for the device-code sign-in page (pages/signin.html).
// Loaded from the page's own origin so that a Content-Security-Policy of
// script-src 'self' applies; the page has no inline script.
"use strict";

document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("copy");
  var status = document.getElementById("copy-status");
  if (!button) {
    return;
  }
  var target = document.getElementById(button.dataset.copyTarget);
  if (!target) {
    return;
  }

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  // Select the code so that Ctrl+C / Cmd+C copies it when the Clipboard
  // API is unavailable or refused.
  function selectCode() {
    var range = document.createRange();
    range.selectNodeContents(target);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  button.addEventListener("click", function () {
    var code = target.textContent.trim();
    if (!navigator.clipboard || !navigator.clipboard.writeText) {
      selectCode();
      say("Press Ctrl+C (\u2318C on a Mac) to copy the selected code.");
      return;
    }
    navigator.clipboard.writeText(code).then(function () {
      button.textContent = "Copied";
      say("The code is on the clipboard.");
      window.setTimeout(function () {
        button.textContent = "Copy";
      }, 2000);
    }, function () {
      selectCode();
      say("Could not copy automatically: press Ctrl+C (\u2318C on a Mac) to copy the selected code.");
    });
  });
});
