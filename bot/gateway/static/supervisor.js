// Supervisor view: per department figures and the overdue tickets (issue API /stats/departments and
// /tickets?overdue=true through the gateway), and the export of tickets for a date range.
(function () {
  "use strict";
  var H = window.Hotline, el = H.el, api = H.api;
  var $ = function (id) { return document.getElementById(id); };

  function pct(x) { return typeof x === "number" ? (x * 100).toFixed(1) + "%" : "–"; }
  function num(x, digits) { return typeof x === "number" ? x.toFixed(digits || 0) : "–"; }
  function cell(tr, text, cls) { tr.appendChild(el("td", cls ? { className: cls } : {}, text)); }

  function departments(items) {
    var body = $("dept-rows");
    body.textContent = "";
    items.forEach(function (d) {
      var tr = el("tr", { "data-testid": "supervisor-row", "data-department": d.department });
      tr.appendChild(el("th", { scope: "row" }, d.department));
      cell(tr, num(d.total), "num"); cell(tr, num(d.open), "num"); cell(tr, num(d.resolved), "num");
      cell(tr, d.resolved ? pct(d.on_time_rate) : "—", "num");  // nothing resolved: no rate, not 0.0%
      var overdue = el("td", { className: "num" + (d.overdue ? " bad" : ""), title: (d.overdue_tickets || []).join("、") }, num(d.overdue));
      tr.appendChild(overdue);
      cell(tr, pct(d.satisfaction_rate), "num"); cell(tr, num(d.avg_rating, 2), "num");
      cell(tr, num(d.rework_count), "num" + (d.rework_count ? " bad" : ""));
      cell(tr, num(d.extensions), "num"); cell(tr, num(d.returns), "num");
      body.appendChild(tr);
    });
    $("dept-empty").hidden = items.length > 0;
  }

  function overdue(items, truncated) {
    var body = $("overdue-rows");
    body.textContent = "";
    items.forEach(function (t) {
      var tr = el("tr", { "data-testid": "overdue-row", "data-ticket-id": t.id });
      cell(tr, t.id); cell(tr, t.department); cell(tr, t.category); cell(tr, H.when(t.deadline), "bad");
      cell(tr, H.STATUS[t.status] || t.status); cell(tr, String(t.urge_count || 0), "num");
      cell(tr, String(t.description || "").slice(0, 60));
      body.appendChild(tr);
    });
    $("overdue-count").textContent = String(items.length) + (truncated ? "+" : "");
    $("overdue-empty").hidden = items.length > 0;
  }

  api("GET", "/api/v1/console/supervisor").then(function (b) {
    departments(b.departments || []);
    overdue(b.overdue || [], b.truncated);
  }).catch(function (err) { $("sup-error").textContent = err.message; });

  // export -----------------------------------------------------------------------------------------------

  // Dates are Beijing dates (the issue API files tickets by them), whatever this computer's time zone.
  function iso(d) { return d.getUTCFullYear() + "-" + String(d.getUTCMonth() + 1).padStart(2, "0") + "-" + String(d.getUTCDate()).padStart(2, "0"); }
  var beijing = new Date(Date.now() + 8 * 3600 * 1000);
  $("export-to").value = iso(beijing);
  $("export-from").value = iso(new Date(Date.UTC(beijing.getUTCFullYear(), beijing.getUTCMonth(), 1)));

  $("export-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var from = $("export-from").value, to = $("export-to").value, format = $("export-format").value;
    if (!from || !to) { $("export-status").textContent = "请选择开始和结束日期"; return; }
    if (from > to) { $("export-status").textContent = "开始日期不能晚于结束日期"; return; }
    $("export-status").textContent = "正在导出…";
    var url = "/api/v1/console/export?from=" + from + "&to=" + to + "&format=" + format;
    fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (r.status === 401) { location.href = "/console"; throw new Error("请先登录"); }
      if (!r.ok) return r.json().catch(function () { return {}; }).then(function (b) { throw new Error(typeof b.detail === "string" ? b.detail : "导出失败（" + r.status + "）"); });
      var name = (/filename="([^"]+)"/.exec(r.headers.get("Content-Disposition") || "") || [])[1] || ("tickets-" + from + "-" + to + "." + format);
      return r.blob().then(function (blob) {
        var a = el("a", { href: URL.createObjectURL(blob), download: name });
        document.body.appendChild(a);
        a.click();
        setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
        $("export-status").textContent = "已导出 " + name;
      });
    }).catch(function (err) { $("export-status").textContent = err.message; });
  });
})();
