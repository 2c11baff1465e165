// Statistics page: key figures and Chart.js charts from the issue API's /stats (via the gateway).
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var STATUS = JSON.parse(document.getElementById("vocabulary").textContent).statuses;
  var COLORS = ["#0b5cad", "#0f7b4a", "#c77700", "#8e44ad", "#b42318", "#1c7ed6", "#2b8a3e", "#e67700", "#5f3dc4", "#c2255c", "#0c8599", "#868e96"];

  function pct(x) { return typeof x === "number" ? (x * 100).toFixed(1) + "%" : "–"; }
  var NONE = "—";  // a figure that has nothing to count yet
  function num(x, digits) { return typeof x === "number" ? x.toFixed(digits || 0) : "–"; }

  function chart(id, type, labels, values, label) {
    return new window.Chart($(id), {
      type: type,
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: type === "line" ? "#0b5cad" : COLORS, borderColor: "#0b5cad" }] },
      options: { responsive: true, plugins: { legend: { display: type === "doughnut" } }, scales: type === "doughnut" ? {} : { y: { beginAtZero: true, ticks: { precision: 0 } } } }
    });
  }

  function entries(obj, names) {
    if (Array.isArray(obj)) return obj.map(function (r) { return [r.week || r.label || r.name, r.count || r.total || 0]; });
    return Object.keys(obj || {}).map(function (k) { return [names ? names[k] || k : k, obj[k]]; });
  }

  fetch("/api/v1/console/stats", { credentials: "same-origin" }).then(function (r) {
    if (r.status === 401) { location.href = "/console"; throw new Error("请先登录"); }
    return r.json().then(function (b) { if (!r.ok) throw new Error(typeof b.detail === "string" ? b.detail : "统计数据获取失败"); return b; });
  }).then(function (s) {
    $("kpi-total").textContent = num(s.total);
    $("kpi-resolved").textContent = num(s.resolved);
    // A rate of nothing is no rate: the issue API says 0 there, the page says there is none yet.
    var counted = (s.total || 0) - (s.cancelled || 0);
    $("kpi-resolution").textContent = counted > 0 ? pct(s.resolution_rate) : NONE;
    $("kpi-ontime").textContent = s.resolved ? pct(s.on_time_rate) : NONE;
    $("kpi-rating").textContent = num(s.avg_rating, 2);
    $("kpi-overdue").textContent = num(s.overdue);
    if (!window.Chart) { $("stats-error").textContent = "图表库未安装（请运行 make vendor），仅显示数字。"; return; }
    var cat = entries(s.by_category), st = entries(s.by_status, STATUS);
    chart("chart-category", "bar", cat.map(function (e) { return e[0]; }), cat.map(function (e) { return e[1]; }), "工单数");
    chart("chart-status", "doughnut", st.map(function (e) { return e[0]; }), st.map(function (e) { return e[1]; }), "工单数");
    if (s.by_week) {
      var wk = entries(s.by_week);
      $("week-figure").hidden = false;
      chart("chart-week", "line", wk.map(function (e) { return e[0]; }), wk.map(function (e) { return e[1]; }), "工单数");
    }
  }).catch(function (err) { $("stats-error").textContent = err.message; });
})();
