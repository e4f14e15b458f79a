// What the views share: the served scheme (labels and their descriptions) and the served model, with change events.

const listeners = { scheme: new Set(), model: new Set() };

export const state = { scheme: null, model: null };

export function on(what, listener) {
  listeners[what].add(listener);
  if (state[what]) listener(state[what]);
}

export function set(what, value) {
  state[what] = value;
  for (const listener of listeners[what]) listener(value);
}
