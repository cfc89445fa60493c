// The log-in page: user and password to /api/login; the server answers with a session cookie (HttpOnly, so
// this script never sees it) and the page goes to the UI.
/* global window, document, fetch */
const form = document.getElementById("login-form");
const result = document.getElementById("login-result");

form.addEventListener("submit", async (e) => {
  e.preventDefault();
  result.textContent = "";
  result.className = "result";
  const body = JSON.stringify({
    user: document.getElementById("login-user").value,
    password: document.getElementById("login-password").value,
  });
  const response = await fetch("/api/login", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body,
  });
  if (response.ok) {
    window.location.assign("/");
    return;
  }
  let error = `HTTP ${response.status}`;
  try {
    error = (await response.json()).error ?? error;
  } catch {
    // not JSON: keep the status
  }
  result.textContent = `Not logged in: ${error}`;
  result.className = "result error";
});
