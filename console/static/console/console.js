// Automatic logoff (HIPAA): the session ends on the server after the idle limit; this shows a
// warning two minutes before, lets the user stay, and signs out when the time is up.
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.dataset.idleSeconds || "0", 10);
  if (!idle) { return; }
  var lead = Math.min(120, Math.floor(idle / 2));
  var box = document.getElementById("idle-warning");
  var countdown = document.getElementById("idle-countdown");
  var stay = document.getElementById("idle-stay");
  var warnTimer, endTimer, tick, deadline;

  function words(seconds) {
    if (seconds >= 60) {
      var minutes = Math.ceil(seconds / 60);
      return minutes + (minutes === 1 ? " minute" : " minutes");
    }
    return seconds + (seconds === 1 ? " second" : " seconds");
  }

  function signOut() {
    var form = document.getElementById("logout-form");
    document.getElementById("logout-idle").value = "1";
    form.submit();
  }

  function warn() {
    box.hidden = false;
    tick = window.setInterval(function () {
      var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      countdown.textContent = words(left);
    }, 1000);
    stay.focus();
  }

  function restart() {
    window.clearTimeout(warnTimer);
    window.clearTimeout(endTimer);
    window.clearInterval(tick);
    box.hidden = true;
    deadline = Date.now() + idle * 1000;
    countdown.textContent = words(lead);
    warnTimer = window.setTimeout(warn, (idle - lead) * 1000);
    endTimer = window.setTimeout(signOut, (idle - 5) * 1000);
  }

  stay.addEventListener("click", function () {
    fetch(body.dataset.keepaliveUrl, {
      method: "POST",
      headers: { "X-CSRFToken": body.dataset.csrf },
      credentials: "same-origin",
    }).then(function (response) {
      if (response.status === 204) { restart(); } else { window.location = body.dataset.loginUrl; }
    });
  });
  // Every request to the server (a page, an htmx update) extends the session.
  document.addEventListener("htmx:afterRequest", restart);
  restart();
})();
