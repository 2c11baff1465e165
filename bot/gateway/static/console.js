// Operator console: live queue, transcript, take-over actions and the ticket panel.
// Everything users or the bot wrote is set with textContent: the console never parses their text.
(function () {
  "use strict";
  var me = document.querySelector("[data-testid=console-operator]").textContent;
  var $ = function (id) { return document.getElementById(id); };
  var queue = {};          // id -> conversation summary
  var current = null;      // id of the conversation on screen
  var shown = {};          // seq -> true for the transcript on screen
  var STATE = { waiting: "等待接入", operator: "服务中", bot: "智能助手", closed: "已结束" };
  var CHANNEL = { voice: "电话", web: "网页", api: "接口" };
  var ROLE = { user: "客户", bot: "智能助手", operator: "坐席", system: "系统" };
  var STATUS = window.Hotline.STATUS;
  var vocabulary = window.Hotline.vocabulary;

  // Why the conversation came to the queue, in words: a code the console does not know (a newer bot)
  // gets a generic label, never its English code.
  function reasonLabel(code) {
    var labels = vocabulary.handoff_reasons || {};
    if (Object.prototype.hasOwnProperty.call(labels, code)) return labels[code];
    return /[A-Za-z]/.test(code) ? (vocabulary.handoff_reason_other || "其他原因") : code;
  }

  var el = window.Hotline.el, api = window.Hotline.api;  // common.js: textContent only; CSRF and a key per change

  function fail(target) { return function (err) { $(target).textContent = err.message; }; }

  // queue ------------------------------------------------------------------------------------------

  function waited(c) {
    if (!c.waiting_since) return "";
    var s = Math.max(0, Math.floor(Date.now() / 1000 - c.waiting_since));
    return (s >= 60 ? Math.floor(s / 60) + "分" : "") + (s % 60) + "秒";
  }

  function renderQueue() {
    var list = $("queue");
    list.textContent = "";
    var items = Object.keys(queue).map(function (k) { return queue[k]; })
      .sort(function (a, b) { return (a.waiting_since || 0) - (b.waiting_since || 0); });
    items.forEach(function (c) {
      var li = el("li", { "data-testid": "queue-item", "data-id": c.id, "data-state": c.state, tabindex: "0", role: "button",
        "aria-label": (CHANNEL[c.channel] || c.channel) + "会话 " + (c.phone || c.id) });
      if (c.id === current) li.className = "active";
      var line = el("div", { className: "line" });
      var left = el("span");
      left.appendChild(el("span", { className: "badge " + c.channel }, CHANNEL[c.channel] || c.channel));
      left.appendChild(document.createTextNode(" " + (c.phone || c.id.slice(0, 14))));
      line.appendChild(left);
      var st = el("span");
      st.appendChild(el("span", { className: "badge " + c.state }, STATE[c.state] + (c.operator ? "·" + c.operator : "")));
      line.appendChild(st);
      li.appendChild(line);
      var meta = el("div", { className: "line muted" });
      meta.appendChild(el("span", { className: "wait", "data-since": String(c.waiting_since || "") }, "等待 " + waited(c)));
      if (c.handoff_reason) meta.appendChild(el("span", { "data-testid": "queue-reason" }, reasonLabel(c.handoff_reason)));
      li.appendChild(meta);
      if (c.handoff_summary) li.appendChild(el("div", { className: "sum" }, c.handoff_summary));
      li.addEventListener("click", function () { open(c.id); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(c.id); } });
      list.appendChild(li);
    });
    $("queue-count").textContent = String(items.length);
    $("queue-empty").hidden = items.length > 0;
  }

  function upsert(c) {
    if (c.state === "waiting" || c.state === "operator") queue[c.id] = c; else delete queue[c.id];
    renderQueue();
    if (c.id === current) showMeta(c);
  }

  // transcript ------------------------------------------------------------------------------------

  function open(id) {
    current = id;
    shown = {};
    $("transcript").textContent = "";
    $("chat-error").textContent = "";
    renderQueue();
    api("GET", "/api/v1/console/conversations/" + encodeURIComponent(id)).then(function (b) {
      if (current !== id) return;
      showMeta(b.conversation);
      b.messages.forEach(addMessage);
      loadConversationTickets(id);
    }).catch(fail("chat-error"));
  }

  function showMeta(c) {
    current = c.id;
    var parts = [(CHANNEL[c.channel] || c.channel) + " · " + (c.phone || "未知号码") + " · " + (STATE[c.state] || c.state) + (c.operator ? "（" + c.operator + "）" : "")];
    if (c.handoff_reason) parts.push("转人工原因：" + reasonLabel(c.handoff_reason));
    if (c.handoff_summary) parts.push("智能助手摘要：" + c.handoff_summary);
    $("chat-meta").textContent = parts.join("\n");
    var mine = c.state === "operator" && c.operator === me;
    $("claim").disabled = c.state !== "waiting";
    $("handback").disabled = !mine;
    $("close").disabled = !(mine || c.state === "waiting");
    $("reply-input").disabled = !(mine || c.state === "waiting");
    $("reply-send").disabled = $("reply-input").disabled;
    $("chat-meta").dataset.state = c.state;
    if (c.phone && !$("lookup").value) $("lookup").value = c.phone;
  }

  function addMessage(m) {
    if (shown[m.seq]) return;
    shown[m.seq] = true;
    // A bot message that only carries a payload for the channels (custom.ticket) has nothing to read.
    if (!m.text && !(m.buttons && m.buttons.length)) return;
    var div = el("div", { className: "tm", "data-testid": "transcript-message", "data-role": m.role, "data-seq": String(m.seq) });
    var when = new Date(m.at * 1000).toLocaleTimeString("zh-CN", { hour12: false });
    div.appendChild(el("span", { className: "who" }, (m.role === "operator" && m.operator ? "坐席 " + m.operator : ROLE[m.role] || m.role) + " " + when));
    div.appendChild(el("span", { className: "text" }, m.text));
    if (m.buttons && m.buttons.length) {
      div.appendChild(el("span", { className: "who" }, "快捷选项：" + m.buttons.map(function (b) { return b.title; }).join(" / ")));
    }
    $("transcript").appendChild(div);
    $("transcript").scrollTop = $("transcript").scrollHeight;
  }

  function act(action) {
    if (!current) return Promise.resolve();
    $("chat-error").textContent = "";
    return api("POST", "/api/v1/console/conversations/" + encodeURIComponent(current) + "/" + action)
      .then(function (c) { upsert(c); return c; });
  }

  $("claim").addEventListener("click", function () { act("claim").catch(fail("chat-error")); });
  $("handback").addEventListener("click", function () { act("handback").catch(fail("chat-error")); });
  $("close").addEventListener("click", function () {
    var c = queue[current];
    var step = c && c.state === "waiting" ? act("claim") : Promise.resolve();
    step.then(function () { return act("close"); }).catch(fail("chat-error"));
  });

  function sendReply() {
    var text = $("reply-input").value.trim();
    if (!text || !current) return;
    var id = current;
    var c = queue[id];
    // Replying to a waiting conversation takes it over first: one click less for the operator.
    var step = c && c.state === "waiting" ? act("claim") : Promise.resolve();
    step.then(function () {
      return api("POST", "/api/v1/console/conversations/" + encodeURIComponent(id) + "/reply", { text: text });
    }).then(function (m) { $("reply-input").value = ""; if (id === current) addMessage(m); })
      .catch(fail("chat-error"));
  }
  $("reply-form").addEventListener("submit", function (e) { e.preventDefault(); sendReply(); });
  $("reply-input").addEventListener("keydown", function (e) {
    if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); sendReply(); }
  });

  $("logout").addEventListener("click", function () {
    api("POST", "/console/logout").then(function () { location.reload(); }, function () { location.reload(); });
  });

  // tickets ------------------------------------------------------------------------------------------

  function ticketCard(t) {
    var box = el("article", { className: "ticket", "data-testid": "ticket-card" });
    if (t.error) { box.appendChild(el("p", { className: "error" }, "工单 " + t.id + "：" + (typeof t.error === "string" ? t.error : "查询失败"))); return box; }
    box.appendChild(el("h3", {}, "工单 " + t.id + " · " + (STATUS[t.status] || t.status)));
    box.appendChild(el("div", {}, [t.category, t.department ? "承办：" + t.department : "", t.deadline ? "时限：" + window.Hotline.when(t.deadline) : ""].filter(Boolean).join(" · ")));
    if (t.overdue) box.appendChild(el("div", { className: "overdue" }, "已超期"));
    if (t.description) box.appendChild(el("div", {}, t.description));
    if (t.pending_review) {
      box.appendChild(el("div", { className: "overdue" }, (window.Hotline.REVIEW_TYPE[t.pending_review.type] || "申请") + "待审核：" + t.pending_review.reason));
    }
    if (t.progress_notes && t.progress_notes.length) {
      box.appendChild(el("div", {}, "办理进展"));
      box.appendChild(window.Hotline.notesList(t.progress_notes));
    }
    if (t.history && t.history.length) box.appendChild(window.Hotline.historyList(t.history));
    return box;
  }

  function showTickets(target, items, empty) {
    var box = $(target);
    box.textContent = "";
    if (!items.length) { box.appendChild(el("p", { className: "muted" }, empty)); return; }
    items.forEach(function (t) { box.appendChild(ticketCard(t)); });
  }

  function loadConversationTickets(id) {
    api("GET", "/api/v1/console/conversations/" + encodeURIComponent(id) + "/tickets")
      .then(function (b) { if (id === current) showTickets("conv-tickets", b.items || [], "该会话暂无关联工单"); })
      .catch(function (err) { $("conv-tickets").textContent = err.message; });
  }

  $("lookup-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var q = $("lookup").value.trim();
    if (!/^\d{6,20}$/.test(q)) { $("lookup-result").textContent = "请输入手机号或工单号（数字）"; return; }
    var isPhone = /^1\d{10}$/.test(q);
    var path = isPhone ? "/api/v1/console/tickets?phone=" + encodeURIComponent(q) : "/api/v1/console/tickets/" + q;
    api("GET", path).then(function (b) {
      showTickets("lookup-result", isPhone ? (b.items || []) : [b], "未查询到工单");
    }).catch(function (err) { $("lookup-result").textContent = err.message; });
  });

  $("ticket-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var f = e.target, body = {};
    ["company", "contact_name", "phone", "category", "kind", "location", "description"].forEach(function (k) { body[k] = f[k].value.trim(); });
    if (current) body.conversation_id = current;
    api("POST", "/api/v1/console/tickets", body).then(function (t) {
      $("ticket-form-result").textContent = "已登记工单 " + t.id;
      f.reset();
      if (current) loadConversationTickets(current);
    }).catch(fail("ticket-form-result"));
  });

  // live updates -------------------------------------------------------------------------------------

  var retry = 0;
  function connect() {
    var ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/console");
    var opened = false;
    ws.onopen = function () { opened = true; retry = 0; $("live").textContent = "实时连接正常"; };
    ws.onmessage = function (e) {
      var ev = JSON.parse(e.data);
      if (ev.type === "queue") {
        queue = {};
        ev.items.forEach(function (c) { queue[c.id] = c; });
        renderQueue();
        if (current) open(current);
      } else if (ev.type === "conversation") {
        upsert(ev.conversation);
      } else if (ev.type === "message" && ev.conversation_id === current) {
        addMessage(ev.message);
      } else if (ev.type === "reviews") {
        window.HotlineBoard.reviews(ev.items);
      } else if (ev.type === "alerts") {
        window.HotlineBoard.alerts(ev.items);
      }
    };
    ws.onclose = function (e) {
      // 4401: the session ended (logout elsewhere, idle time, account removed): back to the login form.
      if (e.code === 4401) { location.reload(); return; }
      $("live").textContent = "连接中断，正在重连…";
      // A refused handshake may mean the same: a request tells, and api() reloads on 401.
      if (!opened && retry > 0) api("GET", "/api/v1/console/queue").catch(function () {});
      setTimeout(connect, Math.min(30000, 1000 * Math.pow(2, retry++)));
    };
  }
  connect();
  // Waiting times tick in place, so that the list a person (or a test) is clicking stays put.
  setInterval(function () {
    Array.prototype.forEach.call(document.querySelectorAll("#queue .wait"), function (span) {
      span.textContent = "等待 " + waited({ waiting_since: Number(span.dataset.since) || 0 });
    });
  }, 1000);
})();
