// Helpers shared by the console, the supervisor view and the department workbench.
// Everything users, departments or the bot wrote is set with textContent: never parsed as markup.
(function () {
  "use strict";
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  var vocabulary = JSON.parse(document.getElementById("vocabulary").textContent);

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k]; else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function newKey() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // JSON in and out; a state change carries the CSRF token and an Idempotency-Key (one per call:
  // a retry of the same submit by the gateway acts once). 401: the session ended, back to the login.
  function api(method, path, body) {
    var opts = { method: method, credentials: "same-origin", headers: {} };
    if (method !== "GET") { opts.headers["X-CSRF-Token"] = csrf; opts.headers["Idempotency-Key"] = newKey(); }
    if (body !== undefined) { opts.headers["Content-Type"] = "application/json"; opts.body = JSON.stringify(body); }
    return fetch(path, opts).then(function (r) {
      if (r.status === 401) { location.reload(); throw new Error("请重新登录"); }
      return r.json().catch(function () { return {}; }).then(function (b) {
        if (!r.ok) {
          var d = b && b.detail;
          if (Array.isArray(b && b.errors) && !d) d = "提交的内容格式不正确";
          throw new Error(typeof d === "string" ? d : (d ? JSON.stringify(d) : "操作失败（" + r.status + "）"));
        }
        return b;
      });
    });
  }

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  // "2025-12-04T23:59:59+08:00" -> "2025-12-04 23:59" (Beijing time, as the issue API writes it).
  function when(iso) {
    if (!iso) return "";
    var m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2})/.exec(String(iso));
    return m ? m[1] + " " + m[2] : String(iso);
  }

  function day(iso) {
    var m = /^(\d{4}-\d{2}-\d{2})/.exec(String(iso || ""));
    return m ? m[1] : "";
  }

  // YYYY-MM-DD of the day after `iso`'s date.
  function nextDay(iso) {
    var d = day(iso);
    if (!d) return "";
    var t = new Date(d + "T12:00:00Z");
    t.setUTCDate(t.getUTCDate() + 1);
    return t.getUTCFullYear() + "-" + pad(t.getUTCMonth() + 1) + "-" + pad(t.getUTCDate());
  }

  var ACTOR_ROLE = { reporter: "报件人", bot: "智能助手", operator: "坐席", admin: "管理员", department: "承办部门", api: "接口" };
  function actor(a) {
    if (!a) return "";
    if (a.indexOf("department/") === 0) return a.slice("department/".length);
    return ACTOR_ROLE[a] || a;
  }

  // A ticket's history: when, what (the contract's label), who, why.
  function historyList(history) {
    var ol = el("ol", { className: "history", "data-testid": "ticket-history" });
    (history || []).forEach(function (h) {
      var li = el("li", { "data-action": h.action || "" });
      li.appendChild(el("span", { className: "at" }, when(h.at)));
      li.appendChild(el("strong", {}, h.action_label || vocabulary.actions[h.action] || h.action));
      if (h.actor || h.role) li.appendChild(el("span", { className: "by" }, actor(h.actor || h.role)));
      if (h.note) li.appendChild(el("span", { className: "note" }, h.note));
      ol.appendChild(li);
    });
    return ol;
  }

  function notesList(notes) {
    var ol = el("ol", { className: "notes", "data-testid": "progress-notes" });
    (notes || []).forEach(function (n) {
      var li = el("li");
      li.appendChild(el("span", { className: "at" }, when(n.at)));
      if (n.actor) li.appendChild(el("span", { className: "by" }, actor(n.actor)));
      li.appendChild(el("span", { className: "note" }, n.text));
      ol.appendChild(li);
    });
    return ol;
  }

  var REVIEW_TYPE = { extension: "延期申请", "return": "退回申请" };

  window.Hotline = {
    csrf: csrf, vocabulary: vocabulary, el: el, api: api, when: when, day: day, nextDay: nextDay,
    actor: actor, historyList: historyList, notesList: notesList, REVIEW_TYPE: REVIEW_TYPE,
    STATUS: vocabulary.statuses, KINDS: vocabulary.kinds
  };
})();
