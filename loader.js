// Loaded synchronously before the wasm: the portal posts its one message on the iframe's
// `load` event, which can fire before the wasm is instantiated. Keep every message until
// the app takes over, then hand them over in order.
(function () {
  var queue = [];
  var deliver = null;
  window.addEventListener("message", function (event) {
    if (deliver) deliver(event); else queue.push(event);
  });
  window.b24payTakeMessages = function (handler) {
    deliver = handler;
    var pending = queue;
    queue = [];
    for (var i = 0; i < pending.length; i++) handler(pending[i]);
  };
})();
