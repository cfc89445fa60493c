// Who is logged in, shown in the header with a log-out button; a viewer's page hides the write buttons (the
// server refuses a viewer's writes anyway). With ui_auth none there is no one to show.
/* global document */
import { $, api, goToLogIn } from "./dom.js";

export async function showSession() {
  const { status, data } = await api("GET", "/api/me");
  if (status !== 200) return;
  document.body.classList.toggle("viewer", data.role !== "editor");
  $("viewer-note").hidden = data.role === "editor";
  if (data.mode === "none") return;
  const user = $("user");
  user.textContent = `${data.user} (${data.role})`;
  if (data.expiresAt) user.title = `session until ${new Date(data.expiresAt).toLocaleString()}`;
  user.hidden = false;
  const logout = $("logout");
  logout.hidden = data.via !== "session";
  logout.onclick = async () => {
    await api("POST", "/api/logout", {});
    goToLogIn();
  };
}

/** After the live stream broke: a 401 from /api/me sends the page to the log-in (api() does it). */
export async function sessionEnded() {
  try {
    await api("GET", "/api/me");
  } catch {
    // the server is away; the stream reconnects by itself
  }
}
