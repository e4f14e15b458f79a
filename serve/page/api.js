// Calls to the framelens API (same origin). The API key is asked for once, when a call needs it, kept in
// sessionStorage only (this tab; never in a URL or a cookie) and sent as "Authorization: Bearer KEY".
// A 401 or 403 shows the server's reason in the key prompt and asks again; cancelling stops the call.

import { $ } from "./dom.js";

const KEY = "framelens.apiKey";
const listeners = new Set();

export class ApiProblem extends Error {
  constructor(status, detail, { error = "", problems = [] } = {}) {
    super(detail);
    this.status = status;
    this.error = error;
    this.problems = problems;
  }
}

export const storedKey = () => sessionStorage.getItem(KEY);

export function setKey(key) {
  if (key) sessionStorage.setItem(KEY, key);
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener(Boolean(key));
}

export const onKeyChange = (listener) => listeners.add(listener);

let pending = null; // one prompt at a time; calls that need a key meanwhile wait for the same answer

/** Open the key prompt with a message; resolves to the key entered, or null if the reader cancels. */
export function askKey(message) {
  const dialog = $("#key-dialog");
  $("#key-message").textContent = message;
  if (pending) return pending;
  const input = $("#key-input");
  input.value = "";
  pending = new Promise((resolve) => {
    const form = $("#key-form");
    const finish = (key) => {
      form.removeEventListener("submit", submit);
      $("#key-cancel").removeEventListener("click", cancel);
      dialog.removeEventListener("cancel", cancel);
      if (dialog.open) dialog.close();
      pending = null;
      if (key) setKey(key);
      resolve(key);
    };
    const submit = (event) => {
      event.preventDefault();
      const key = input.value.trim();
      if (key) finish(key);
    };
    const cancel = (event) => {
      event.preventDefault();
      finish(null);
    };
    form.addEventListener("submit", submit);
    $("#key-cancel").addEventListener("click", cancel);
    dialog.addEventListener("cancel", cancel); // Escape
    dialog.showModal();
    input.focus();
  });
  return pending;
}

async function problemOf(response) {
  let body = {};
  try {
    body = await response.json();
  } catch {
    // not JSON: a proxy's page, or nothing
  }
  const detail = body.detail || `${response.status} ${response.statusText || "error"}`;
  return new ApiProblem(response.status, detail, { error: body.error || "", problems: body.problems || [] });
}

/**
 * call("POST", "/v1/examples", {json: [...], write: true}) -> the Response (2xx), or throws an ApiProblem.
 * write: the call changes the service, so a key is asked for before it is sent.
 * A read is sent without a key unless one is stored; if the server wants one (401), the prompt comes up.
 */
export async function call(method, path, { json, body, write = false, headers = {} } = {}) {
  let key = storedKey();
  if (write && !key) {
    key = await askKey("This changes the service, so it needs an API key.");
    if (!key) throw new ApiProblem(401, "No API key given: nothing was sent.", { error: "no_key" });
  }
  for (;;) {
    const sent = { ...headers };
    if (key) sent.Authorization = `Bearer ${key}`;
    let payload = body;
    if (json !== undefined) {
      sent["Content-Type"] = "application/json";
      payload = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(path, { method, headers: sent, body: payload, cache: "no-store" });
    } catch (error) {
      throw new ApiProblem(0, `The server did not answer (${error.message}): is framelens still running?`);
    }
    if (response.ok) return response;
    const problem = await problemOf(response);
    // 401: no key sent; invalid_api_key: a wrong one. Other 403s (no keys configured, a path outside the jobs
    // root) are not cured by another key, so they are shown as they are.
    if (response.status !== 401 && problem.error !== "invalid_api_key") throw problem;
    setKey(null);
    const said = `Refused (HTTP ${response.status}): ${problem.message.replace(/\.$/, "")}.`;
    key = await askKey(`${said} Enter a valid API key to go on.`);
    if (!key) throw new ApiProblem(response.status, `${said} Nothing was changed.`, problem);
  }
}

export async function getJson(path) {
  return (await call("GET", path)).json();
}

/** JSON Lines body -> list of objects (blank lines skipped). */
export async function getJsonLines(path) {
  const text = await (await call("GET", path)).text();
  return text
    .split("\n")
    .filter((line) => line.trim())
    .map((line) => JSON.parse(line));
}
