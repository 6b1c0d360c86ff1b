// Loaded synchronously before the wasm: the portal posts its one message on the iframe's
// `load` event, which can fire before the wasm is instantiated. Keep every message until
// the app takes over, then hand them over in order. `b24payTakeMessages(null)` (the app
// unmounting) goes back to buffering.
(function () {
  var queue = [];
  var deliver = null;
  window.addEventListener("message", function (event) {
    if (deliver) deliver(event); else queue.push(event);
  });
  window.b24payTakeMessages = function (handler) {
    deliver = handler || null;
    while (deliver && queue.length) deliver(queue.shift());
  };
})();
