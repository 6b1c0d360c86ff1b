// Runs synchronously while the page is parsed, before the wasm and before the portal's message
// (the portal posts on the iframe's `load`, which can fire before the wasm is instantiated).
//
// 1. Keeps every `message` until the app takes over (`b24payTakeMessages(handler)`), then hands
//    them over in order (the portal's, once its answer is on its way: see below);
//    `b24payTakeMessages(null)` (the app unmounting) buffers again.
// 2. Sizes the frame at plain-JavaScript speed: posts the static skeleton's height (index.html's
//    #b24-boot, the form's boxes) to the allowed origins now, and again to the portal once its
//    message is accepted, after fitting the skeleton to what that message asks for (the store's
//    font size, the cardholder field, the test-mode note). Only `height` is ever posted: the
//    portal pins the frame's width to any width it is sent (README, "Sizing").
// 3. Says in the console, when no acceptable portal message has arrived after a few seconds,
//    which origins were refused and which are allowed (origins only, nothing of a message's
//    content), so whoever deploys can fix the configuration — even if the wasm never loads.
// 4. Reloads the frame when, framed, it has had no message at all a while after its `load`:
//    the portal attaches its `iframe.onload` (which posts) only on its page's
//    DOMContentLoaded, so a frame that loaded before that never hears from it, and a reload's
//    `load` that comes after gets the message. At most three reloads, 1 s, 2 s and 4 s after
//    each `load` (a store page parsed up to ~7 s after the frame still works); a reload too
//    early costs only a cached load, since the portal posts on every `load`. sessionStorage
//    counts them (cleared by an accepted message, or by the last page giving up). A refused
//    message is not a reason: that is a configuration to fix (3.), which a reload would not.
// 5. Starts the browser's language catalogue in parallel with the wasm.
// 6. Runs Stripe.js's 3-D Secure step when a payment asks for it (src/stripe.rs), loading
//    Stripe.js only then.
// 7. Does not hold the wasm back: index.html's module script starts it as soon as it is
//    compiled (Trunk.toml), and the app mounts in its waiting state while the portal's message
//    is on its way, so that after the message only the payment's own view is built (started
//    after the message, instantiating and mounting came after it too: BENCHMARKS.md, "Widget
//    speed: where the time goes").
// 8. Makes the page's first `Intl.NumberFormat` while waiting: the first one of a page loads
//    ICU's number data (15–25 ms measured in headless Chromium), which the amount's format then
//    paid after the portal's message.
//
// The app checks every message again itself; this only decides whether to post a height, by
// the same rules (src/config.rs's `Origin::parse` for the allowed origins, src/portal/
// message.rs's `PortalMessage::parse` for what is the portal's message; tests/portal_loader.rs
// holds both to one table of hostile origins and messages).
(function () {
  var queue = [];
  var deliver = null;
  var boot = document.getElementById("b24-boot");
  var framed = window.parent !== window;

  function meta(name) {
    var tag = document.querySelector('meta[name="' + name + '"]');
    return tag ? tag.content : "";
  }
  // As `Origin::parse`: an http(s) origin and nothing more, in the browser's serialisation;
  // "" (never matching an event's origin) for anything else.
  function origin(text) {
    var url;
    try { url = new URL(text); } catch (e) { return ""; }
    return (url.protocol === "http:" || url.protocol === "https:") && !url.username
      && !url.password && url.href === url.origin + "/" && !/[\/?#]$/.test(text) ? url.origin : "";
  }
  var allowed = meta("b24pay-allowed-origins").split(/\s+/).filter(Boolean).map(origin);
  // As `PortalMessage::parse`: an object, not an array, with a `BX_SYSTEM_PARAMS` key (whatever
  // its value: a broken payment is the app's to explain, at the size of its explanation).
  function portalMessage(data) {
    return data !== null && typeof data === "object" && !Array.isArray(data)
      && data.BX_SYSTEM_PARAMS !== undefined;
  }

  function postHeight(targets) {
    if (!boot || !boot.isConnected || !framed) return;
    var size = { height: Math.ceil(boot.getBoundingClientRect().height) };
    for (var i = 0; i < targets.length; i++) if (targets[i]) parent.postMessage(size, targets[i]);
  }

  // As theme.rs reads them: "<number>px", clamped to 12–24 px, in hundredths; FIELDS as text.
  function fit(data) {
    var style = data.BX_COMPUTED_STYLE || {};
    var size = /^(\d+(\.\d+)?|\.\d+)px$/.exec(String(style.fontSize || "").trim());
    var px = size && Number(size[1]);
    if (px >= 1 && px <= 200) {
      px = Math.min(24, Math.max(12, Math.round(px * 100) / 100));
      boot.style.setProperty("--b24-font-size", px + "px");
    }
    var field = function (name) { return String(data[name] == null ? "" : data[name]).trim().toLowerCase(); };
    boot.toggleAttribute("data-holder", field("holder") === "y");
    boot.toggleAttribute("data-test", field("mode") === "test");
  }

  var accepted = false, ignored = 0, refused = [];
  window.addEventListener("message", function (event) {
    var data = event.data;
    // Our own size messages, when the page is not framed.
    if (event.source === window) return;
    var ok = !!event.origin && allowed.indexOf(event.origin) >= 0;
    queue.push(event);
    if (ok && portalMessage(data)) {
      accepted = true;
      session(function (s) { s.removeItem(RELOADS); });
      if (boot) {
        fit(data);
        postHeight([event.origin]);
      }
      // The browser sends a message to another origin's window from a task of its own, after
      // this one: the app's handling of this message waits until after it, or the portal would
      // have the height only once the app is done.
      setTimeout(flush, 0);
      return;
    }
    ignored++;
    if (!ok && refused.indexOf(event.origin) < 0 && refused.length < 8) refused.push(event.origin);
    flush();
  });
  function flush() {
    while (deliver && queue.length) deliver(queue.shift());
  }
  // As src/config.rs's DEFAULT_WAIT_FOR_PORTAL. Not for the standalone preview (not framed, with
  // a sample message configured), which needs no portal.
  if (framed || !meta("b24pay-preview")) setTimeout(function () {
    if (accepted) return;
    console.warn("b24pay: no usable portal message after 4 s. " + (!ignored
      ? "No message arrived at all: is the page opened outside the portal's payment page?"
      : refused.length
        ? ignored + " message(s) ignored; refused origins: " + refused.join(", ") + "."
        : ignored + " message(s) from allowed origins were not the portal's payment message.")
      + " Allowed origins: " + (allowed.filter(Boolean).join(", ")
        || "none (the page's b24pay-allowed-origins meta tag is empty)")
      + ". The companion's allowed_origins (B24PAY_ALLOWED_ORIGINS) must list the portal's origin.");
  }, 4000);
  function afterLoad(f) {
    if (document.readyState === "complete") f(); else window.addEventListener("load", f);
  }
  // sessionStorage can be refused (storage blocked): then no reload, rather than maybe a loop.
  var RELOADS = "b24pay-reloads", MAX_RELOADS = 3;
  function session(f) {
    try { return f(sessionStorage); } catch (e) { return null; }
  }
  if (framed) afterLoad(function () {
    var done = Number(session(function (s) { return s.getItem(RELOADS); })) || 0;
    if (done >= MAX_RELOADS) {
      // The last chance: this page waits (the app explains), and a later visit starts afresh.
      session(function (s) { s.removeItem(RELOADS); });
      return;
    }
    setTimeout(function () {
      if (accepted || refused.length) return;
      var next = String(done + 1);
      if (session(function (s) { s.setItem(RELOADS, next); return s.getItem(RELOADS); }) === next) {
        location.reload();
      }
    }, 1000 << done);
  });
  window.b24payTakeMessages = function (handler) {
    deliver = handler || null;
    flush();
  };
  postHeight(allowed);
  setTimeout(function () {
    try { new Intl.NumberFormat().format(0); } catch (e) { /* only a warm-up */ }
  }, 0);

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
  // `b24payStripe(jsUrl, publishableKey, clientSecret)`: Stripe.js, loaded once and only now
  // (a failed load is tried again next time), finishes the PaymentIntent's next action in this
  // frame. Resolves with Stripe.js's answer, which the app does not trust: the companion asks
  // Stripe. `handleNextAction` is Stripe.js's own call; `confirmCardPayment` also finishes a
  // card PaymentIntent's action and is what localstripe's stand-in has.
  var stripeLoads = {};
  window.b24payStripe = function (src, key, secret) {
    var load = stripeLoads[src] || (stripeLoads[src] = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = function () {
        delete stripeLoads[src];
        script.remove();
        reject(new Error("Stripe.js did not load"));
      };
      document.head.appendChild(script);
    }));
    return load.then(function () {
      var stripe = window.Stripe(key);
      return stripe.handleNextAction
        ? stripe.handleNextAction({ clientSecret: secret })
        : stripe.confirmCardPayment(secret);
    });
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
