// Department workbench: the department's tickets (new, in progress, due soon, overdue), and the work on
// one of them: accept, progress notes, resolve, request an extension, return a misrouted ticket.
(function () {
  "use strict";
  var H = window.Hotline, el = H.el, api = H.api;
  var $ = function (id) { return document.getElementById(id); };
  var tickets = {};        // id -> ticket
  var current = null;      // id of the ticket on screen
  var filter = "open";
  var OPEN = { received: true, assigned: true, in_progress: true };
  var POLL_MS = 20000;

  function buckets(t) {
    var b = [];
    if (OPEN[t.status]) b.push("open");
    if (t.status === "assigned") b.push("new");
    if (t.status === "in_progress") b.push("in_progress");
    if (OPEN[t.status] && t.due_soon) b.push("due_soon");
    if (OPEN[t.status] && t.overdue) b.push("overdue");
    if (t.status === "resolved" || t.status === "closed") b.push("resolved");
    return b;
  }

  // Overdue first, then due soon, then by deadline; finished ones newest first.
  function order(a, b) {
    var ra = OPEN[a.status] ? (a.overdue ? 0 : a.due_soon ? 1 : 2) : 3;
    var rb = OPEN[b.status] ? (b.overdue ? 0 : b.due_soon ? 1 : 2) : 3;
    if (ra !== rb) return ra - rb;
    if (ra === 3) return String(b.resolved_at || "").localeCompare(String(a.resolved_at || ""));
    return String(a.deadline || "").localeCompare(String(b.deadline || ""));
  }

  function badge(cls, text) { return el("span", { className: "badge " + cls }, text); }

  function renderList() {
    var all = Object.keys(tickets).map(function (k) { return tickets[k]; }).sort(order);
    var counts = { open: 0, "new": 0, in_progress: 0, due_soon: 0, overdue: 0, resolved: 0 };
    all.forEach(function (t) { buckets(t).forEach(function (b) { counts[b] += 1; }); });
    Object.keys(counts).forEach(function (k) {
      var span = document.querySelector("[data-count=" + k + "]");
      if (span) span.textContent = String(counts[k]);
    });
    var list = $("dept-tickets");
    list.textContent = "";
    var shown = all.filter(function (t) { return buckets(t).indexOf(filter) >= 0; });
    shown.forEach(function (t) {
      var li = el("li", { "data-testid": "dept-ticket", "data-ticket-id": t.id, "data-status": t.status,
        tabindex: "0", role: "button", "aria-label": "工单 " + t.id + " " + (H.STATUS[t.status] || t.status) });
      if (t.id === current) li.className = "active";
      if (t.overdue && OPEN[t.status]) li.classList.add("is-overdue");
      var line = el("div", { className: "line" });
      line.appendChild(el("strong", {}, "工单 " + t.id));
      var marks = el("span", { className: "marks" });
      marks.appendChild(badge("st-" + t.status, t.status === "assigned" ? "新派单" : (H.STATUS[t.status] || t.status)));
      if (t.overdue && OPEN[t.status]) marks.appendChild(badge("overdue", "已超期"));
      else if (t.due_soon) marks.appendChild(badge("due-soon", "临期"));
      if (t.urge_count) marks.appendChild(badge("urged", "催办 " + t.urge_count));
      if (t.rework_count) marks.appendChild(badge("rework", "重办"));
      if (t.pending_review) marks.appendChild(badge("pending", H.REVIEW_TYPE[t.pending_review.type] + "审核中"));
      line.appendChild(marks);
      li.appendChild(line);
      var meta = el("div", { className: "line muted" });
      meta.appendChild(el("span", {}, t.category + " · " + (H.KINDS[t.kind] || t.kind)));
      meta.appendChild(el("span", { "data-testid": "dept-deadline" }, OPEN[t.status] ? "期限 " + H.when(t.deadline) : "办结 " + H.when(t.resolved_at)));
      li.appendChild(meta);
      li.appendChild(el("div", { className: "sum" }, t.description));
      li.addEventListener("click", function () { open(t.id); });
      li.addEventListener("keydown", function (e) { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(t.id); } });
      list.appendChild(li);
    });
    $("list-empty").hidden = shown.length > 0;
  }

  function load() {
    return api("GET", "/api/v1/department/tickets").then(function (b) {
      tickets = {};
      (b.items || []).forEach(function (t) { tickets[t.id] = t; });
      $("list-error").textContent = "";
      $("list-truncated").hidden = !b.truncated;
      $("live").textContent = "已更新 " + new Date().toLocaleTimeString("zh-CN", { hour12: false });
      renderList();
      if (current && tickets[current]) showTicket(tickets[current]);
      else if (current) {  // reassigned to another department (return approved), or long finished
        current = null;
        $("detail").hidden = true;
        $("detail-empty").hidden = false;
        $("detail-empty").textContent = "该工单已不在本部门的列表中（可能已改派其他部门）";
      }
    }).catch(function (err) {
      $("list-error").textContent = err.message;
      $("live").textContent = "更新失败，稍后重试";
    });
  }

  // detail ---------------------------------------------------------------------------------------------

  function open(id) {
    var changed = current !== id;
    current = id;
    if (changed) {
      ["detail-error", "detail-done"].forEach(function (k) { $(k).textContent = ""; });
      ["note-input", "result-input", "extend-reason", "return-reason", "extend-date"].forEach(function (k) { $(k).value = ""; });
    }
    renderList();
    if (tickets[id]) showTicket(tickets[id]);
    api("GET", "/api/v1/department/tickets/" + encodeURIComponent(id)).then(function (t) {
      tickets[t.id] = t;
      if (current === t.id) showTicket(t);
    }).catch(function (err) { $("detail-error").textContent = err.message; });
  }

  function field(dl, label, value, testid) {
    if (value === undefined || value === null || value === "") return;
    dl.appendChild(el("dt", {}, label));
    dl.appendChild(el("dd", testid ? { "data-testid": testid } : {}, value));
  }

  function showTicket(t) {
    $("detail-empty").hidden = true;
    $("detail").hidden = false;
    $("detail").dataset.ticketId = t.id;
    var info = $("detail-info");
    info.textContent = "";
    var h = el("h3", { "data-testid": "dept-detail-title" }, "工单 " + t.id + " · ");
    h.appendChild(el("span", { "data-testid": "dept-status" }, H.STATUS[t.status] || t.status));
    if (t.overdue && OPEN[t.status]) h.appendChild(badge("overdue", "已超期"));
    else if (t.due_soon) h.appendChild(badge("due-soon", "临期"));
    info.appendChild(h);
    var dl = el("dl", { className: "facts" });
    field(dl, "类别", t.category + " · " + (H.KINDS[t.kind] || t.kind));
    field(dl, "企业", t.company);
    field(dl, "联系人", t.contact_name);
    field(dl, "联系电话", t.phone);
    field(dl, "地点", t.location);
    field(dl, "受理时间", H.when(t.created_at));
    field(dl, "办理期限", H.when(t.deadline), "dept-detail-deadline");
    field(dl, "催办次数", String(t.urge_count || 0));
    if (t.rework_count) field(dl, "重办次数", String(t.rework_count));
    if (t.result) field(dl, "办理结果", t.result);
    if (t.rating) field(dl, "评价", t.rating.label + (t.rating.comment ? "：" + t.rating.comment : ""));
    info.appendChild(dl);
    info.appendChild(el("p", { className: "desc" }, t.description));
    if (t.supplements && t.supplements.length) {
      info.appendChild(el("h4", {}, "补充信息"));
      var ul = el("ul");
      t.supplements.forEach(function (s) { ul.appendChild(el("li", {}, H.when(s.at) + " " + s.text)); });
      info.appendChild(ul);
    }
    if (t.pending_review) {
      var p = t.pending_review;
      var box = el("div", { className: "pending-review", "data-testid": "dept-pending-review" });
      box.appendChild(el("strong", {}, H.REVIEW_TYPE[p.type] + "等待坐席审核"));
      box.appendChild(el("div", {}, (p.new_deadline ? "申请延至 " + p.new_deadline + "；" : "") + "理由：" + p.reason));
      info.appendChild(box);
    }
    info.appendChild(el("h4", {}, "办理进展"));
    if (t.progress_notes && t.progress_notes.length) info.appendChild(H.notesList(t.progress_notes));
    else info.appendChild(el("p", { className: "muted" }, "暂无进展记录"));
    info.appendChild(el("h4", {}, "办理记录"));
    info.appendChild(H.historyList(t.history));

    var open_ = !!OPEN[t.status], working = t.status === "assigned" || t.status === "in_progress";
    $("accept").disabled = t.status !== "assigned";
    $("note-input").disabled = $("note-send").disabled = !open_;
    $("result-input").disabled = $("resolve").disabled = !working;
    var canRequest = working && !t.pending_review;
    $("extend-date").disabled = $("extend-reason").disabled = $("extend").disabled = !canRequest || !!t.overdue;
    $("return-reason").disabled = $("return").disabled = !canRequest;
    var after = H.nextDay(t.deadline);
    $("extend-date").min = after;
    if (!$("extend-date").value) $("extend-date").value = after;
  }

  function act(path, body, done, clear) {
    var id = current;
    if (!id) return;
    $("detail-error").textContent = "";
    $("detail-done").textContent = "";
    return api("POST", "/api/v1/department/tickets/" + encodeURIComponent(id) + "/" + path, body).then(function (t) {
      if (t && t.id) tickets[t.id] = t;
      (clear || []).forEach(function (k) { $(k).value = ""; });
      $("detail-done").textContent = done;
      renderList();
      if (current === id && tickets[id]) showTicket(tickets[id]);
      load();
    }).catch(function (err) { $("detail-error").textContent = err.message; });
  }

  function required(id, message) {
    var v = $(id).value.trim();
    if (!v) { $("detail-error").textContent = message; $(id).focus(); }
    return v;
  }

  $("accept").addEventListener("click", function () { act("accept", undefined, "接单成功，工单现为“" + H.STATUS.in_progress + "”"); });
  $("note-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var text = required("note-input", "请填写办理进展");
    if (text) act("notes", { text: text }, "进展已添加", ["note-input"]);
  });
  $("resolve-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var result = required("result-input", "请填写办理结果");
    if (result) act("resolve", { result: result }, "工单现为“" + H.STATUS.resolved + "”，将请来电人评价", ["result-input"]);
  });
  $("extend-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var date = $("extend-date").value;
    if (!date) { $("detail-error").textContent = "请选择申请延至的日期"; return; }
    var reason = required("extend-reason", "请填写延期理由");
    if (reason) act("extension", { reason: reason, new_deadline: date }, "延期申请已提交，等待坐席审核", ["extend-reason"]);
  });
  $("return-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var reason = required("return-reason", "请填写退回理由");
    if (reason) act("return", { reason: reason }, "退回申请已提交，等待坐席改派", ["return-reason"]);
  });

  Array.prototype.forEach.call(document.querySelectorAll(".filters [data-filter]"), function (btn) {
    btn.addEventListener("click", function () {
      filter = btn.dataset.filter;
      Array.prototype.forEach.call(document.querySelectorAll(".filters [data-filter]"), function (b) {
        b.setAttribute("aria-selected", String(b === btn));
      });
      renderList();
    });
  });

  $("logout").addEventListener("click", function () {
    api("POST", "/department/logout").then(function () { location.reload(); }, function () { location.reload(); });
  });

  load();
  setInterval(function () { if (!document.hidden) load(); }, POLL_MS);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) load(); });
})();
