// Login for the console and the department workbench: posts JSON with the login CSRF token to the
// form's own address, then shows the page it guarded.
(function () {
  "use strict";
  var form = document.getElementById("login-form");
  var error = document.getElementById("login-error");
  var csrf = document.querySelector("meta[name=csrf-token]").content;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    error.textContent = "";
    fetch(form.dataset.action, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify({ username: form.username.value.trim(), password: form.password.value })
    }).then(function (r) {
      if (r.ok) { location.reload(); return; }
      return r.json().then(function (b) { error.textContent = (b && typeof b.detail === "string") ? b.detail : "登录失败，请重试"; });
    }).catch(function () { error.textContent = "无法连接服务器，请稍后重试"; });
  });
})();
