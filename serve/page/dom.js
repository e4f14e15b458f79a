// Small DOM helpers: build elements without innerHTML (text is always text), show problems, format numbers.

/** h("p", {class: "hint"}, "text", child): attributes, then children (strings become text nodes; null is skipped). */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") el.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(name, "");
    else el.setAttribute(name, String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export const $ = (selector, root = document) => root.querySelector(selector);
export const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];

/** A 0–1 figure as CSS custom property (CSSOM, so the strict style-src policy allows it). */
export function setFraction(el, name, value) {
  el.style.setProperty(name, String(Math.max(0, Math.min(1, Number(value) || 0))));
}

export const fixed = (x, digits = 2) => (x === null || x === undefined || Number.isNaN(x) ? "–" : Number(x).toFixed(digits));
export const percent = (x) => `${Math.round(100 * x)}%`;

/** Seconds as "8 s", "3 min 20 s", "1 h 5 min". */
export function duration(seconds) {
  if (!Number.isFinite(seconds) || seconds < 0) return "–";
  if (seconds < 1) return "under a second";
  if (seconds < 60) return `${Math.round(seconds)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

/** Show an error (an ApiProblem or any Error) in a message area: the API's detail, then its problem lines. */
export function showProblem(area, error, lead = "") {
  const lines = error && Array.isArray(error.problems) ? error.problems : [];
  replace(
    area,
    h("p", {}, lead ? h("strong", {}, lead + " ") : null, error?.message || String(error)),
    lines.length ? h("ul", { class: "problems" }, lines.map((line) => h("li", {}, h("code", {}, line)))) : null,
  );
  area.className = "message error";
  area.hidden = false;
}

export function showMessage(area, text, kind = "ok") {
  replace(area, h("p", {}, text));
  area.className = `message ${kind}`;
  area.hidden = false;
}

export function clearMessage(area) {
  area.replaceChildren();
  area.hidden = true;
}

/** True when a key press is typing (in a field) or carries a modifier, so page shortcuts must leave it alone. */
export function isTyping(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return true;
  const el = event.target;
  if (!(el instanceof HTMLElement)) return false;
  if (el.isContentEditable || el.tagName === "TEXTAREA" || el.tagName === "SELECT") return true;
  return el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit", "range"].includes(el.type);
}

/** Elements built with data-v / data-t (0–1) get them as the CSS properties --v / --t (bar fill, threshold mark). */
export function applyFractions(root) {
  for (const el of root.querySelectorAll("[data-v]")) setFraction(el, "--v", el.dataset.v);
  for (const el of root.querySelectorAll("[data-t]")) setFraction(el, "--t", el.dataset.t);
  return root;
}
