// The console's board: departments' extension and return requests to review, and alerts (a low rating
// sent a ticket back for rework; a 回访 failed after every attempt). The lists arrive over the
// console's WebSocket (console.js calls HotlineBoard.reviews / .alerts); items already on screen are
// kept as they are, so that an operator typing a reason is not interrupted by an update.
(function () {
  "use strict";
  var H = window.Hotline, el = H.el, api = H.api;
  var $ = function (id) { return document.getElementById(id); };
  var V = H.vocabulary;
  var OUTCOME = { no_answer: "无人接听", busy: "占线", failed: "呼叫失败", no_rating: "未给出评价", declined: "拒绝评价" };
  var CHANNEL = { voice: "电话", web: "网页", operator: "坐席", api: "接口" };

  function short(text, n) { text = String(text || ""); return text.length > n ? text.slice(0, n) + "…" : text; }

  function setCount(id, n) {
    $(id).textContent = String(n);
    $(id).classList.toggle("zero", n === 0);
  }

  // Keyed rendering: new items are added, gone ones removed, the others left untouched.
  function sync(listId, emptyId, countId, items, keyOf, build) {
    var list = $(listId);
    var wanted = {};
    items.forEach(function (item) { wanted[keyOf(item)] = item; });
    Array.prototype.slice.call(list.children).forEach(function (li) {
      if (!wanted[li.dataset.key]) li.remove();
    });
    var before = null;
    items.slice().reverse().forEach(function (item) {
      var key = keyOf(item);
      var li = list.querySelector('[data-key="' + CSS.escape(key) + '"]');
      if (!li) { li = build(item); li.dataset.key = key; }
      list.insertBefore(li, before);
      before = li;
    });
    $(emptyId).hidden = items.length > 0;
    setCount(countId, items.length);
  }

  // reviews --------------------------------------------------------------------------------------------

  function reviewItem(r) {
    var t = r.ticket || {};
    var li = el("li", { className: "review", "data-testid": "review-item", "data-ticket-id": r.ticket_id, "data-type": r.type });
    var head = el("div", { className: "head" });
    head.appendChild(el("span", {}, (H.REVIEW_TYPE[r.type] || r.type) + " · 工单 " + r.ticket_id));
    head.appendChild(el("span", {}, H.actor(r.requested_by) + " " + H.when(r.requested_at)));
    li.appendChild(head);
    li.appendChild(el("div", {}, [t.category, t.department ? "承办：" + t.department : "", t.deadline ? "当前期限 " + H.when(t.deadline) : "",
      t.overdue ? "已超期" : ""].filter(Boolean).join(" · ")));
    if (t.description) li.appendChild(el("div", { className: "muted" }, short(t.description, 80)));
    li.appendChild(el("div", { className: "reason" }, (r.type === "extension" && r.new_deadline ? "申请延至 " + r.new_deadline + "；" : "") + "理由：" + r.reason));

    var decide = el("div", { className: "decide" });
    var deadline = null, department = null;
    if (r.type === "extension") {
      var dl = el("label", {}, "新期限 ");
      deadline = el("input", { type: "date", "data-testid": "review-deadline" });
      deadline.value = r.new_deadline || "";
      dl.appendChild(deadline);
      decide.appendChild(dl);
    } else {
      var suggested = r.suggested_department || (V.department_for[t.category] !== t.department ? V.department_for[t.category] : null);
      var sl = el("label", {}, "改派至 ");
      department = el("select", { "data-testid": "review-department" });
      department.appendChild(el("option", { value: "" }, "请选择承办部门"));
      V.departments.forEach(function (d) {
        if (d === t.department) return;
        var o = el("option", { value: d }, d + (d === suggested ? "（建议）" : ""));
        if (d === suggested) o.selected = true;
        department.appendChild(o);
      });
      sl.appendChild(department);
      decide.appendChild(sl);
    }
    var reason = el("input", { type: "text", maxlength: "500", "data-testid": "review-reason",
      placeholder: "审核意见（驳回时必填）", "aria-label": "审核意见" });
    decide.appendChild(reason);
    var approve = el("button", { type: "button", "data-testid": "review-approve" }, r.type === "extension" ? "批准延期" : "批准并改派");
    var reject = el("button", { type: "button", className: "reject", "data-testid": "review-reject" }, "驳回");
    decide.appendChild(approve);
    decide.appendChild(reject);
    li.appendChild(decide);
    var error = el("p", { className: "error", role: "alert" });
    li.appendChild(error);

    function send(body, done) {
      error.textContent = "";
      approve.disabled = reject.disabled = true;
      api("POST", "/api/v1/console/tickets/" + encodeURIComponent(r.ticket_id) + "/review", body).then(function () {
        li.remove();
        $("reviews-done").textContent = done;
        setCount("reviews-count", $("reviews").children.length);
        $("reviews-empty").hidden = $("reviews").children.length > 0;
      }).catch(function (err) {
        error.textContent = err.message;
        approve.disabled = reject.disabled = false;
      });
    }
    approve.addEventListener("click", function () {
      var body = { decision: "approve", reason: reason.value.trim(), review_id: r.id, type: r.type };
      if (deadline) {
        if (!deadline.value) { error.textContent = "请选择新的办理期限"; return; }
        body.deadline = deadline.value;
        send(body, "已批准工单 " + r.ticket_id + " 延期至 " + deadline.value);
      } else {
        if (!department.value) { error.textContent = "请选择改派的承办部门"; return; }
        body.department = department.value;
        send(body, "工单 " + r.ticket_id + " 已改派至 " + department.value);
      }
    });
    reject.addEventListener("click", function () {
      var why = reason.value.trim();
      if (!why) { error.textContent = "驳回时请填写理由"; reason.focus(); return; }
      send({ decision: "reject", reason: why, review_id: r.id, type: r.type }, "已驳回工单 " + r.ticket_id + " 的" + (H.REVIEW_TYPE[r.type] || "申请"));
    });
    return li;
  }

  // alerts ---------------------------------------------------------------------------------------------

  function alertItem(a) {
    var t = a.ticket || {};
    var li = el("li", { className: "alert " + a.type, "data-testid": "alert-item", "data-ticket-id": a.ticket_id, "data-alert": a.type });
    var head = el("div", { className: "head" });
    if (a.type === "low_rating") {
      head.appendChild(el("span", {}, "差评退回重办 · 工单 " + a.ticket_id));
      head.appendChild(el("span", {}, a.label + "（" + a.score + "分）"));
      li.appendChild(head);
      li.appendChild(el("div", {}, [t.category, t.department ? "承办：" + t.department : "", t.rework_count ? "第 " + t.rework_count + " 次重办" : ""].filter(Boolean).join(" · ")));
      if (a.comment) li.appendChild(el("div", { className: "reason" }, "评价意见：" + a.comment));
      if (t.result) li.appendChild(el("div", { className: "muted" }, "原办理结果：" + short(t.result, 80)));
      return li;
    }
    head.appendChild(el("span", {}, "回访失败 · 工单 " + a.ticket_id));
    head.appendChild(el("span", {}, (CHANNEL[a.channel] || a.channel || "") + " 共 " + (a.attempts || 0) + " 次"));
    li.appendChild(head);
    li.appendChild(el("div", {}, "最后一次：" + (OUTCOME[a.last_outcome] || a.last_outcome || "未知") + "。请人工回访后登记评价。"));
    li.appendChild(el("div", {}, [t.contact_name, t.phone, t.company].filter(Boolean).join(" · ")));
    if (t.department || t.result) li.appendChild(el("div", { className: "muted" }, (t.department ? t.department + "：" : "") + short(t.result, 80)));
    var rate = el("div", { className: "rate" });
    var score = el("select", { "data-testid": "alert-rate-score", "aria-label": "回访评价" });
    score.appendChild(el("option", { value: "" }, "评价结果"));
    V.ratings.forEach(function (r) { score.appendChild(el("option", { value: String(r[0]) }, r[1])); });
    var comment = el("input", { type: "text", maxlength: "500", placeholder: "意见（选填）", "aria-label": "评价意见" });
    var submit = el("button", { type: "button", "data-testid": "alert-rate-submit" }, "登记评价");
    rate.appendChild(score); rate.appendChild(comment); rate.appendChild(submit);
    li.appendChild(rate);
    var error = el("p", { className: "error", role: "alert" });
    li.appendChild(error);
    submit.addEventListener("click", function () {
      if (!score.value) { error.textContent = "请选择评价结果"; return; }
      submit.disabled = true;
      api("POST", "/api/v1/console/tickets/" + encodeURIComponent(a.ticket_id) + "/rating",
        { score: Number(score.value), comment: comment.value.trim() }).then(function () {
        li.remove();
        $("alerts-done").textContent = "已登记工单 " + a.ticket_id + " 的回访评价";
        setCount("alerts-count", $("alerts").children.length);
        $("alerts-empty").hidden = $("alerts").children.length > 0;
      }).catch(function (err) { error.textContent = err.message; submit.disabled = false; });
    });
    return li;
  }

  window.HotlineBoard = {
    reviews: function (items) {
      sync("reviews", "reviews-empty", "reviews-count", items || [],
        function (r) { return r.ticket_id + "|" + r.type + "|" + r.requested_at; }, reviewItem);
    },
    alerts: function (items) {
      sync("alerts", "alerts-empty", "alerts-count", items || [],
        function (a) { return a.type + "|" + a.ticket_id + "|" + (a.at || ""); }, alertItem);
    }
  };
})();
