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

  // Language catalogues (English is in the wasm): one request per language, resolving to
  // the parsed catalogue or null. The browser's language starts now, in parallel with the
  // wasm; the app (src/i18n/catalogue.rs) asks again for the language it settles on, which
  // the portal may force. Keep this map in step with `Locale::from_tag`.
  var catalogues = {};
  window.b24payCatalogue = function (tag) {
    return catalogues[tag] || (catalogues[tag] = fetch("/locales/" + tag + ".json")
      .then(function (r) { return r.ok ? r.json() : null; })
      .catch(function () { return null; }));
  };
  var ours = { en: "", ru: "ru", de: "de", uk: "uk", kk: "kk", pl: "pl", pt: "pt-BR", es: "es", fr: "fr", tr: "tr" };
  var preferred = navigator.languages || [navigator.language];
  for (var i = 0; i < preferred.length; i++) {
    var tag = ours[String(preferred[i]).split(/[-_]/)[0].toLowerCase()];
    if (tag !== undefined) {
      if (tag) window.b24payCatalogue(tag);
      break;
    }
  }
})();
