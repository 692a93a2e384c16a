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

// The page follows the sign-in: it asks feedkey for the state every two
// seconds while it waits, and shows the outcome (done, declined, expired,
// failed) in place of the steps. Text goes in with textContent only.
document.addEventListener("DOMContentLoaded", function () {
  var main = document.querySelector("main[data-state-url]");
  if (!main || main.dataset.state !== "waiting" || !window.fetch) {
    return;
  }
  var feed = document.querySelector("#title .feed");
  var feedName = feed ? feed.textContent : "the feed";
  var texts = {
    done: ["Signed in to ", "feedkey has the credential. You can close this tab."],
    denied: ["Sign-in to ", "The sign-in was declined. Start it again from the feedkey menu when you are ready."],
    expired: ["Sign-in to ", "The code expired before it was entered. Start the sign-in again from the feedkey menu."],
    failed: ["Sign-in to ", ""]
  };

  function show(state, message) {
    var t = texts[state];
    if (!t) {
      return false;
    }
    var title = document.getElementById("title");
    title.textContent = t[0];
    var span = document.createElement("span");
    span.className = "feed";
    span.textContent = feedName;
    title.appendChild(span);
    if (state !== "done") {
      title.appendChild(document.createTextNode(" did not finish"));
    }
    var out = document.getElementById("outcome");
    out.className = "outcome " + state;
    out.textContent = state === "failed" ? message : t[1];
    document.getElementById("steps").hidden = true;
    main.dataset.state = state;
    document.title = title.textContent + " — feedkey";
    return true;
  }

  function poll() {
    fetch(main.dataset.stateUrl, {cache: "no-store", credentials: "same-origin"}).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (o) {
      if (o && o.state !== "waiting" && show(o.state, o.message || "")) {
        return;
      }
      window.setTimeout(poll, 2000);
    }, function () {
      // feedkey stopped: nothing more will change.
      var out = document.getElementById("outcome");
      out.className = "outcome failed";
      out.textContent = "feedkey is no longer running.";
    });
  }
  window.setTimeout(poll, 2000);
});
