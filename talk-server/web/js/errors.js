// Every failure is shown: a line in the alert region at the top of the page
// saying what could not be done and why, until the reader dismisses it.

import { h } from './dom.js';

const SHOWN_AT_MOST = 4;

/** Shows "Could not <doing>: <why>" (the API's own message and code). */
export function showError(doing, error) {
  const region = document.getElementById('errors');
  const why = error && error.message ? error.message : String(error);
  const code = error && error.code && error.status ? ` (${error.code})` : '';
  const line = h('div', { class: 'error', dataset: { code: (error && error.code) || '' } },
    h('span', {}, `Could not ${doing}: ${why}${code}`),
    h('button', { type: 'button', class: 'quiet', 'aria-label': 'Dismiss', onclick: () => line.remove() }, '×'));
  region.append(line);
  while (region.children.length > SHOWN_AT_MOST) region.firstElementChild.remove();
}

/** Runs `fn`; a failure is shown as "Could not <doing>" and gives undefined. */
export async function attempt(doing, fn) {
  try {
    return await fn();
  } catch (error) {
    showError(doing, error);
    return undefined;
  }
}
