// Small helpers of the page: elements, the JSON API, problem lists. Every value from Kafka reaches the page
// through textContent or an attribute, never as HTML.
/* global document, window, fetch, setTimeout, clearTimeout */

export const $ = (id) => document.getElementById(id);

/** Creates an element; children are nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof window.Node ? c : String(c));
  }
  return el;
}

let leaving = false;

/** Leaves for the log-in page, once: several requests that find the session over navigate only once. */
export function goToLogIn() {
  if (leaving) return;
  leaving = true;
  window.location.assign("/login.html");
}

export async function api(method, path, body) {
  const init = { method, headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = typeof body === "string" ? body : JSON.stringify(body);
  }
  const response = await fetch(path, init);
  // The session ended (or never was): the log-in page brings the user back here.
  if (response.status === 401) goToLogIn();
  let data;
  try {
    data = await response.json();
  } catch {
    data = { ok: false, error: `HTTP ${response.status}` };
  }
  return { status: response.status, data };
}

export function position(p) {
  if (p.line === undefined) return "";
  return p.column === undefined ? `line ${p.line}: ` : `line ${p.line}, column ${p.column}: `;
}

export function showProblems(list, problems) {
  list.replaceChildren(...problems.map((p) => h("li", { class: "problem" }, position(p), p.message)));
}

export function setResult(el, kind, text) {
  el.className = `result ${kind}`;
  el.textContent = text;
}

export function debounce(fn, ms) {
  let timer;
  return () => {
    clearTimeout(timer);
    timer = setTimeout(fn, ms);
  };
}
