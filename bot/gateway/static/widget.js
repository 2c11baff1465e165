/*
 * 96767 online service widget. Embed with one tag:  <script src="https://GATEWAY/widget.js" defer></script>
 *
 * Plain JavaScript on purpose: the host pages belong to other teams and frameworks, so the widget
 * brings nothing but itself. Everything a user or the bot typed is put on the page with textContent,
 * never as markup.
 */
(function () {
  "use strict";
  if (window.__hotline96767Widget) return;
  window.__hotline96767Widget = true;

  var script = document.currentScript;
  var base = new URL(script && script.src ? script.src : "/widget.js", location.href);
  var wsBase = (base.protocol === "https:" ? "wss://" : "ws://") + base.host;
  var STORE_SENDER = "hotline96767.sender";
  var STORE_LARGE = "hotline96767.largeText";
  var ROLE_LABEL = { user: "我", bot: "智能助手", operator: "人工客服", system: "系统提示" };
  // The contract's five rating levels, filled in by the gateway when it serves this file.
  var RATINGS = __HOTLINE_RATINGS__;
  var STATUSES = __HOTLINE_STATUSES__;

  function storage(key, value) {
    try {
      if (value === undefined) return window.localStorage.getItem(key);
      window.localStorage.setItem(key, value);
    } catch (e) { /* private mode: the conversation then lasts as long as the page */ }
    return null;
  }

  // The access key is the chat's only proof of who it is (its history, its tickets): 128 random bits
  // from the browser's CSPRNG. crypto.getRandomValues works on plain-HTTP pages too (randomUUID
  // does not) and in every browser since 2013; without it the widget says so and does not chat,
  // rather than use a guessable key.
  function randomHex(bytes) {
    if (!window.crypto || !window.crypto.getRandomValues) return null;
    var values = new Uint8Array(bytes);
    window.crypto.getRandomValues(values);
    var hex = "";
    for (var i = 0; i < values.length; i++) { hex += (values[i] < 16 ? "0" : "") + values[i].toString(16); }
    return hex;
  }

  function senderId() {
    var id = storage(STORE_SENDER);
    if (!id || !/^[A-Za-z0-9_-]{8,64}$/.test(id)) {
      var random = randomHex(16);
      if (!random) return null;
      id = "web-" + random;
      storage(STORE_SENDER, id);
    }
    return id;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "className") node.className = attrs[k];
      else node.setAttribute(k, attrs[k]);
    });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var CSS = [
    ".hl-root{--hl-blue:#0b5cad;--hl-op:#0f7b4a;font-family:'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;font-size:15px;line-height:1.5;color:#1f2933}",
    ".hl-root.hl-large{font-size:19px}",
    ".hl-launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:28px;padding:12px 20px;background:var(--hl-blue);color:#fff;font:inherit;font-weight:600;box-shadow:0 4px 14px rgba(0,0,0,.25);cursor:pointer}",
    ".hl-launcher:focus-visible,.hl-root button:focus-visible,.hl-root textarea:focus-visible,.hl-root input:focus-visible{outline:3px solid #f5a623;outline-offset:2px}",
    ".hl-panel{position:fixed;right:20px;bottom:84px;z-index:2147483001;width:370px;max-width:calc(100vw - 24px);height:560px;max-height:calc(100vh - 110px);display:flex;flex-direction:column;background:#fff;border-radius:12px;box-shadow:0 8px 30px rgba(0,0,0,.3);overflow:hidden}",
    ".hl-panel[hidden]{display:none}",
    ".hl-head{display:flex;align-items:center;gap:6px;padding:10px 12px;background:var(--hl-blue);color:#fff}",
    ".hl-head h2{flex:1;margin:0;font-size:1em}",
    ".hl-head button{background:transparent;border:1px solid rgba(255,255,255,.6);border-radius:6px;color:#fff;font:inherit;font-size:.8em;padding:2px 8px;cursor:pointer}",
    ".hl-status{padding:6px 12px;font-size:.85em;background:#fff7e0;color:#7a4b00;border-bottom:1px solid #f0d9a0}",
    ".hl-status[hidden]{display:none}",
    ".hl-log{flex:1;overflow-y:auto;padding:12px;background:#f4f6f9}",
    ".hl-msg{max-width:85%;margin:6px 0;padding:8px 11px;border-radius:10px;white-space:pre-wrap;word-break:break-word}",
    ".hl-msg .hl-who{display:block;font-size:.75em;opacity:.75;margin-bottom:2px}",
    ".hl-msg[data-role=user]{margin-left:auto;background:var(--hl-blue);color:#fff;border-bottom-right-radius:2px}",
    ".hl-msg[data-role=bot]{background:#fff;border:1px solid #dde3ea;border-bottom-left-radius:2px}",
    ".hl-msg[data-role=operator]{background:#e6f6ee;border:1px solid var(--hl-op);border-left:5px solid var(--hl-op);border-bottom-left-radius:2px}",
    ".hl-sys{margin:8px auto;text-align:center;font-size:.8em;color:#52606d;max-width:92%}",
    ".hl-replies{display:flex;flex-wrap:wrap;gap:6px;margin:4px 0 8px}",
    ".hl-replies button{border:1px solid var(--hl-blue);background:#fff;color:var(--hl-blue);border-radius:14px;padding:3px 10px;font:inherit;font-size:.9em;cursor:pointer}",
    ".hl-typing{font-size:.85em;color:#52606d;padding:0 14px 6px;background:#f4f6f9}",
    ".hl-typing[hidden]{display:none}",
    ".hl-form{display:flex;gap:6px;padding:8px;border-top:1px solid #dde3ea}",
    ".hl-form textarea{flex:1;resize:none;font:inherit;padding:6px 8px;border:1px solid #b8c2cc;border-radius:6px;min-height:2.4em;max-height:6em}",
    ".hl-form button{border:0;border-radius:6px;background:var(--hl-blue);color:#fff;font:inherit;padding:0 14px;cursor:pointer}",
    ".hl-rate{padding:10px 12px;border-top:1px solid #dde3ea;background:#fbfcfd}",
    ".hl-rate[hidden]{display:none}",
    ".hl-rate fieldset{border:0;margin:0;padding:0;display:flex;flex-wrap:wrap;gap:4px}",
    ".hl-rate legend{font-weight:600;margin-bottom:4px}",
    ".hl-rate label{border:1px solid #b8c2cc;border-radius:6px;padding:2px 6px;font-size:.85em;cursor:pointer}",
    ".hl-rate textarea{width:100%;box-sizing:border-box;margin:6px 0;font:inherit}",
    ".hl-rate button{border:0;border-radius:6px;background:var(--hl-blue);color:#fff;font:inherit;padding:4px 12px;cursor:pointer}",
    ".hl-pending{max-height:60%;overflow-y:auto}",
    ".hl-pending .hl-rate{background:#fff7e0}",
    ".hl-result{margin:0 0 4px;font-size:.9em;white-space:pre-wrap;word-break:break-word}",
    ".hl-vh{position:absolute!important;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}",
    "@media (max-width:480px){.hl-panel{right:0;bottom:0;width:100vw;max-width:100vw;height:100%;max-height:100%;border-radius:0}.hl-launcher{right:12px;bottom:12px}}"
  ].join("\n");

  function Widget() {
    this.sender = senderId();
    this.ws = null;
    this.retry = 0;
    this.state = "bot";
    this.seen = {};
    this.build();
    this.connect();
  }

  Widget.prototype.build = function () {
    var self = this;
    document.head.appendChild(el("style", {}, CSS));
    var root = this.root = el("div", { className: "hl-root", lang: "zh-CN" });
    if (storage(STORE_LARGE) === "1") root.classList.add("hl-large");

    this.launcher = el("button", {
      className: "hl-launcher", type: "button", "data-testid": "chat-open",
      "aria-expanded": "false", "aria-controls": "hl-panel", "aria-haspopup": "dialog"
    }, "在线客服 96767");
    this.launcher.addEventListener("click", function () { self.toggle(); });

    var panel = this.panel = el("section", {
      id: "hl-panel", className: "hl-panel", role: "dialog", "aria-modal": "false",
      "aria-labelledby": "hl-title", hidden: ""
    });
    var head = el("div", { className: "hl-head" });
    head.appendChild(el("h2", { id: "hl-title" }, "96767 企业服务在线客服"));
    this.largeBtn = el("button", { type: "button", "aria-pressed": String(root.classList.contains("hl-large")),
      "data-testid": "chat-large-text", title: "切换大字模式" }, "大字");
    this.largeBtn.addEventListener("click", function () { self.toggleLarge(); });
    var endBtn = el("button", { type: "button", "data-testid": "chat-end" }, "结束");
    endBtn.addEventListener("click", function () { self.showRating(); });
    var closeBtn = el("button", { type: "button", "aria-label": "收起对话窗口", "data-testid": "chat-close" }, "收起");
    closeBtn.addEventListener("click", function () { self.toggle(false); });
    head.appendChild(this.largeBtn); head.appendChild(endBtn); head.appendChild(closeBtn);

    this.status = el("div", { className: "hl-status", role: "status", "aria-live": "polite",
      "data-testid": "chat-status", hidden: "" });
    this.log = el("div", { className: "hl-log", role: "log", "aria-live": "polite", "aria-label": "对话记录",
      tabindex: "0" });
    this.typing = el("div", { className: "hl-typing", "aria-live": "polite", "data-testid": "chat-typing",
      hidden: "" }, "对方正在输入…");

    var form = el("form", { className: "hl-form" });
    var label = el("label", { className: "hl-vh", "for": "hl-input" }, "输入消息");
    this.input = el("textarea", { id: "hl-input", rows: "1", "data-testid": "chat-input", maxlength: "500",
      placeholder: "请输入您的问题，Enter 发送", "aria-label": "输入消息" });
    var send = el("button", { type: "submit", "data-testid": "chat-send" }, "发送");
    form.appendChild(label); form.appendChild(this.input); form.appendChild(send);
    form.addEventListener("submit", function (e) { e.preventDefault(); self.sendInput(); });
    this.input.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); self.sendInput(); }
    });

    this.rate = this.buildRating();
    this.pending = el("div", { className: "hl-pending", "data-testid": "chat-pending-ratings" });
    panel.appendChild(head); panel.appendChild(this.status); panel.appendChild(this.log);
    panel.appendChild(this.typing); panel.appendChild(this.pending); panel.appendChild(this.rate);
    panel.appendChild(form);
    panel.addEventListener("keydown", function (e) {
      if (e.key === "Escape") { self.toggle(false); }
    });
    root.appendChild(this.launcher); root.appendChild(panel);
    (document.body || document.documentElement).appendChild(root);
  };

  Widget.prototype.buildRating = function () {
    var self = this;
    var box = el("form", { className: "hl-rate", "data-testid": "chat-rating", hidden: "" });
    var set = el("fieldset", {});
    set.appendChild(el("legend", {}, "请对本次服务进行评价"));
    RATINGS.forEach(function (r) {
      var id = "hl-rate-" + r[0];
      var radio = el("input", { type: "radio", name: "hl-score", value: String(r[0]), id: id,
        "data-testid": "chat-rating-" + r[0] });
      var lab = el("label", { "for": id });
      lab.appendChild(radio);
      lab.appendChild(document.createTextNode(" " + r[1]));
      set.appendChild(lab);
    });
    var comment = el("textarea", { rows: "2", maxlength: "500", placeholder: "意见建议（选填）", "aria-label": "意见建议" });
    var submit = el("button", { type: "submit", "data-testid": "chat-rating-submit" }, "提交评价");
    box.appendChild(set); box.appendChild(comment); box.appendChild(submit);
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = box.querySelector("input[name=hl-score]:checked");
      if (!picked) { self.setStatus("请先选择满意程度。"); return; }
      if (self.sendFrame({ type: "rating", score: Number(picked.value), comment: comment.value })) {
        box.hidden = true; comment.value = ""; picked.checked = false;
      }
    });
    return box;
  };

  // 回访 on the web: a resolved ticket of this conversation waits for the reporter's rating.
  Widget.prototype.showPendingRatings = function (items) {
    var self = this;
    this.pending.textContent = "";
    (items || []).forEach(function (t) { self.pending.appendChild(self.buildTicketRating(t)); });
    this.launcher.textContent = "在线客服 96767" + (items && items.length ? "（" + items.length + "件工单待评价）" : "");
  };

  Widget.prototype.buildTicketRating = function (t) {
    var self = this;
    var box = el("form", { className: "hl-rate", "data-testid": "chat-ticket-rating", "data-ticket-id": t.ticket_id });
    var set = el("fieldset", {});
    set.appendChild(el("legend", {}, "您反映的问题（工单 " + t.ticket_id + "）" + STATUSES.resolved + "，请评价办理结果"));
    box.appendChild(set);
    if (t.description) set.appendChild(el("p", { className: "hl-result" }, "问题：" + t.description));
    set.appendChild(el("p", { className: "hl-result", "data-testid": "chat-ticket-result" }, "办理结果：" + (t.result || "")));
    RATINGS.forEach(function (r) {
      var id = "hl-t" + t.ticket_id + "-" + r[0];
      var radio = el("input", { type: "radio", name: "hl-t" + t.ticket_id, value: String(r[0]), id: id,
        "data-testid": "chat-ticket-rating-" + r[0] });
      var lab = el("label", { "for": id });
      lab.appendChild(radio);
      lab.appendChild(document.createTextNode(" " + r[1]));
      set.appendChild(lab);
    });
    var comment = el("textarea", { rows: "1", maxlength: "500", placeholder: "意见建议（选填）", "aria-label": "对工单 " + t.ticket_id + " 的意见建议" });
    var submit = el("button", { type: "submit", "data-testid": "chat-ticket-rating-submit" }, "提交评价");
    box.appendChild(comment); box.appendChild(submit);
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      var picked = box.querySelector("input[type=radio]:checked");
      if (!picked) { self.setStatus("请先选择满意程度。"); return; }
      if (self.sendFrame({ type: "ticket_rating", ticket_id: t.ticket_id, score: Number(picked.value), comment: comment.value })) {
        box.remove();
        var left = self.pending.querySelectorAll("form").length;
        self.launcher.textContent = "在线客服 96767" + (left ? "（" + left + "件工单待评价）" : "");
        self.updateStatus();
      }
    });
    return box;
  };

  Widget.prototype.toggle = function (open) {
    if (open === undefined) open = this.panel.hidden;
    this.panel.hidden = !open;
    this.launcher.setAttribute("aria-expanded", String(open));
    if (open) { this.input.focus(); this.scroll(); } else { this.launcher.focus(); }
  };

  Widget.prototype.toggleLarge = function () {
    var on = this.root.classList.toggle("hl-large");
    this.largeBtn.setAttribute("aria-pressed", String(on));
    storage(STORE_LARGE, on ? "1" : "0");
  };

  Widget.prototype.connect = function () {
    var self = this;
    var ws;
    if (!this.sender) { this.setStatus("您的浏览器版本过旧，无法安全使用在线客服，请升级浏览器或拨打96767。"); return; }
    try {
      ws = this.ws = new WebSocket(wsBase + "/ws/chat?sender=" + encodeURIComponent(this.sender));
    } catch (e) { this.reconnect(); return; }
    ws.onopen = function () { self.retry = 0; self.updateStatus(); };
    ws.onmessage = function (e) {
      var frame;
      try { frame = JSON.parse(e.data); } catch (err) { return; }
      self.onFrame(frame);
    };
    ws.onclose = function () { if (self.ws === ws) { self.ws = null; self.reconnect(); } };
  };

  Widget.prototype.reconnect = function () {
    var self = this;
    // Exponential backoff with jitter, so that a restarted gateway is not stormed by every widget.
    var delay = Math.min(30000, 1000 * Math.pow(2, this.retry)) * (0.75 + Math.random() * 0.5);
    this.retry += 1;
    this.setStatus("连接已断开，正在重新连接…");
    setTimeout(function () { self.connect(); }, delay);
  };

  Widget.prototype.sendFrame = function (frame) {
    if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
      this.setStatus("正在连接客服系统，请稍后再发送。");
      return false;
    }
    this.ws.send(JSON.stringify(frame));
    return true;
  };

  Widget.prototype.sendInput = function (text, payload) {
    if (text === undefined) text = this.input.value.trim();
    if (!text) return;
    var frame = { type: "message", text: text };
    if (payload) frame.payload = payload;
    if (this.sendFrame(frame) && arguments.length === 0) this.input.value = "";
  };

  Widget.prototype.onFrame = function (frame) {
    var self = this;
    if (frame.type === "hello") {
      this.log.textContent = "";
      this.seen = {};
      if (!frame.messages.length) {
        this.addSystem("您好！这里是西安高新区96767企业服务热线在线客服，请问有什么可以帮您？输入“转人工”可联系人工客服。");
      }
      frame.messages.forEach(function (m) { self.addMessage(m); });
      this.setState(frame.state);
      this.showReplies(frame.messages);
      this.showPendingRatings(frame.pending_ratings);
    } else if (frame.type === "message") {
      this.typing.hidden = true;
      this.addMessage(frame.message);
      this.showReplies([frame.message]);
      if (frame.message.rating_requested) this.showRating();
    } else if (frame.type === "state") {
      this.setState(frame.state);
    } else if (frame.type === "typing") {
      this.typing.hidden = false;
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(function () { self.typing.hidden = true; }, 15000);
    } else if (frame.type === "notice") {
      this.addSystem(frame.text);
    }
  };

  Widget.prototype.addMessage = function (m) {
    if (m.seq && this.seen[m.seq]) return;
    if (m.seq) this.seen[m.seq] = true;
    if (m.role === "system") { this.addSystem(m.text); return; }
    if (!m.text) return;
    var bubble = el("div", { className: "hl-msg", "data-testid": "chat-message", "data-role": m.role });
    // Operators are 人工客服 to the user, never a login name (the gateway sends none).
    var who = ROLE_LABEL[m.role] || m.role;
    bubble.appendChild(el("span", { className: "hl-who" }, who));
    bubble.appendChild(el("span", { className: "hl-text" }, m.text));
    this.log.appendChild(bubble);
    this.scroll();
  };

  Widget.prototype.addSystem = function (text) {
    this.log.appendChild(el("div", { className: "hl-sys", role: "note", "data-testid": "chat-system" }, text));
    this.scroll();
  };

  Widget.prototype.showReplies = function (messages) {
    var self = this;
    var old = this.log.querySelector(".hl-replies");
    var last = messages[messages.length - 1];
    if (!last || (last.role !== "bot" && last.role !== "user")) return;
    if (old) old.remove();
    if (last.role !== "bot" || !last.buttons || !last.buttons.length || this.state !== "bot") return;
    var box = el("div", { className: "hl-replies", role: "group", "aria-label": "快捷回复" });
    last.buttons.forEach(function (b) {
      var btn = el("button", { type: "button", "data-testid": "chat-quick-reply" }, b.title);
      btn.addEventListener("click", function () { box.remove(); self.sendInput(b.title, b.payload); });
      box.appendChild(btn);
    });
    this.log.appendChild(box);
    this.scroll();
  };

  Widget.prototype.setState = function (state) {
    this.state = state;
    this.updateStatus();
  };

  Widget.prototype.updateStatus = function () {
    if (this.state === "waiting") this.setStatus("正在为您转接人工客服，请稍候…");
    else if (this.state === "operator") this.setStatus("人工客服正在为您服务");
    else if (this.state === "closed") this.setStatus("本次对话已结束，发送新消息即可开始新的咨询。");
    else this.setStatus("");
  };

  Widget.prototype.setStatus = function (text) {
    this.status.textContent = text;
    this.status.hidden = !text;
  };

  Widget.prototype.showRating = function () {
    this.rate.hidden = false;
    var first = this.rate.querySelector("input");
    if (first && !this.panel.hidden) first.focus();
  };

  Widget.prototype.scroll = function () { this.log.scrollTop = this.log.scrollHeight; };

  function start() { new Widget(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
