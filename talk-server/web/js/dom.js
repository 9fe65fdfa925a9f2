// Building the page: elements made with properties and text nodes only.
// User text never goes through innerHTML: `h` puts strings in text nodes.

/**
 * Makes an element. `attrs`: `class`, `onclick`-style listeners (`on` + event
 * name), `dataset` (an object), boolean and string properties, and anything
 * else (aria-*, role, for, …) as an attribute. Children: nodes, strings
 * (as text), arrays of them; null, undefined and false are skipped.
 */
export function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'class') element.className = value;
    else if (name === 'dataset') Object.assign(element.dataset, value);
    else if (name.startsWith('on') && typeof value === 'function') element.addEventListener(name.slice(2), value);
    else if (name in element && !name.includes('-') && name !== 'list' && name !== 'form') element[name] = value;
    else element.setAttribute(name, value === true ? '' : String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children) {
    if (child === undefined || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces every child of `element` with `children`. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A time as the reader's clock shows it: "14:05", or "3 Dec 14:05" on another day. */
export function shortTime(iso) {
  if (!iso) return '';
  const when = new Date(iso);
  const clock = when.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
  if (when.toDateString() === new Date().toDateString()) return clock;
  return `${when.toLocaleDateString([], { day: 'numeric', month: 'short' })} ${clock}`;
}

/** A `<time>` element for an RFC 3339 timestamp, the full date in its tooltip. */
export function timeElement(iso) {
  return h('time', { dateTime: iso, title: new Date(iso).toLocaleString() }, shortTime(iso));
}

/** Runs `fn` at most once per `delay` ms per key, after the last call. */
export function debouncer(delay) {
  const timers = new Map();
  return (key, fn) => {
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => { timers.delete(key); fn(); }, delay));
  };
}
