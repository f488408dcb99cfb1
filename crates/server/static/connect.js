// Patchbay connect: opens a connect session's hosted page in a popup and resolves with the
// result. No dependencies. Include it from your Patchbay server (docs/embedding.md):
//
//   <script src="https://patchbay.example.com/connect.js"></script>
//   PatchbayConnect.open(sessionUrl).then(function (result) { … });
//   PatchbayConnect.openPending(promiseOfSessionUrl).then(…);  // open now, navigate later
//
// `result` is {outcome: "connected", connectionId: "con_…", sessionId: "cs_…"} when the end user
// connected, or {outcome: "closed"} when they closed the window first. The promise rejects when
// the popup cannot be opened (call it from a click handler) or the URL promise fails. Only a
// message from the popup itself, on the Patchbay origin of the session URL, counts; Patchbay
// posts it only to the session's `allowed_origins`.
(function (root) {
  "use strict";

  function features(options) {
    var width = options.width || 520;
    var height = options.height || 720;
    var left = Math.max(0, (window.screenX || 0) + ((window.outerWidth || width) - width) / 2);
    var top = Math.max(0, (window.screenY || 0) + ((window.outerHeight || height) - height) / 2);
    return "popup=yes,width=" + width + ",height=" + height + ",left=" + left + ",top=" + top;
  }

  function openPending(sessionUrl, options) {
    options = options || {};
    return new Promise(function (resolve, reject) {
      var popup = window.open("about:blank", "patchbay-connect", features(options));
      if (!popup) {
        reject(new Error("the connect window could not be opened: call this from a click"));
        return;
      }
      var origin = null;
      var timer = null;
      function stop() {
        window.removeEventListener("message", onMessage);
        if (timer) window.clearInterval(timer);
      }
      function onMessage(event) {
        if (!origin || event.origin !== origin || event.source !== popup) return;
        var data = event.data || {};
        if (data.type !== "patchbay:connect" || data.outcome !== "connected") return;
        stop();
        resolve({ outcome: "connected", connectionId: data.connectionId, sessionId: data.sessionId });
        try {
          popup.close();
        } catch (e) {
          // Already closed.
        }
      }
      window.addEventListener("message", onMessage);
      timer = window.setInterval(function () {
        if (popup.closed) {
          stop();
          resolve({ outcome: "closed" });
        }
      }, 500);
      Promise.resolve(sessionUrl).then(
        function (url) {
          var target = new URL(url, window.location.href);
          origin = target.origin;
          popup.location.href = target.href;
        },
        function (error) {
          stop();
          popup.close();
          reject(error);
        },
      );
    });
  }

  function open(sessionUrl, options) {
    return openPending(sessionUrl, options);
  }

  root.PatchbayConnect = { open: open, openPending: openPending };
})(window);
