/* A stand-in for the Bitrix24 JS library (api.bitrix24.com/api/v1/), served by the sandbox
   portal at /api/v1/ for app pages opened inside it: BX24.init, installFinish, getAuth,
   getDomain, getLang, isAdmin, placement.info. It reads DOMAIN, PROTOCOL and APP_SID from the
   page's query (the portal puts them there), asks the portal for the rest ("getInitData")
   and talks to it the way the library does: "command:params:callback:APP_SID" strings posted
   to the portal's origin. */
(function () {
  "use strict";
  var query = new URLSearchParams(window.location.search);
  var sid = query.get("APP_SID") || "";
  var domain = query.get("DOMAIN") || "";
  var portal = (query.get("PROTOCOL") === "1" ? "https://" : "http://") + domain;
  var data = null;
  var waiting = [];

  function send(command, params) {
    window.parent.postMessage(command + ":" + JSON.stringify(params || {}) + "::" + sid, portal);
  }

  window.addEventListener("message", function (event) {
    if (event.origin !== portal || !event.data || event.data.cmd !== "initData") {
      return;
    }
    data = event.data.data;
    var callbacks = waiting;
    waiting = [];
    callbacks.forEach(function (callback) { callback(); });
  });

  window.BX24 = {
    init: function (callback) {
      if (data) {
        callback();
      } else {
        waiting.push(callback);
        send("getInitData");
      }
    },
    installFinish: function () { send("setInstallFinish"); },
    getAuth: function () {
      return data && {
        access_token: data.AUTH_ID,
        refresh_token: data.REFRESH_ID,
        expires_in: data.AUTH_EXPIRES,
        domain: data.DOMAIN,
        member_id: data.MEMBER_ID
      };
    },
    getDomain: function () { return domain; },
    getLang: function () { return query.get("LANG"); },
    isAdmin: function () { return !!(data && data.IS_ADMIN); },
    placement: {
      info: function () { return {placement: data ? data.PLACEMENT : "DEFAULT", options: {}}; }
    }
  };
})();
