// Patchbay connect page: tells the platform's page that opened this window how the connect
// session ended. The message goes only to the session's allowed origins: postMessage with a
// target origin delivers nothing when the opener is on another origin. The page works without
// this file (the platform then learns the result from its return URL or the webhook).
(function () {
  "use strict";
  var result = document.querySelector("[data-outcome][data-session]");
  if (!result || !window.opener) return;
  var origins = (result.getAttribute("data-origins") || "").split(" ").filter(Boolean);
  var message = {
    type: "patchbay:connect",
    sessionId: result.getAttribute("data-session"),
    outcome: result.getAttribute("data-outcome"),
    connectionId: result.getAttribute("data-connection"),
  };
  origins.forEach(function (origin) {
    try {
      window.opener.postMessage(message, origin);
    } catch (e) {
      // An opener on another origin: nothing is delivered there.
    }
  });
})();
