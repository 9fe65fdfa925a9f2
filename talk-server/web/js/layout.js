// The page's regions: the sidebar (talk list, search, directory link), the
// main region (one page at a time: a talk, a form, results), and the side
// panel beside it (a thread or the participants).

import { fill } from './dom.js';

export const regions = { sidebar: null, main: null, aside: null };

/** Finds the regions of index.html's shell. */
export function findRegions() {
  regions.sidebar = document.getElementById('sidebar');
  regions.main = document.getElementById('main');
  regions.aside = document.getElementById('aside');
}

/** Shows `nodes` as the main region's page; the side panel closes. */
export function showPage(...nodes) {
  closeAside();
  fill(regions.main, ...nodes);
  document.body.classList.add('page-open');
}

/** Back to the talk list alone (what a phone-width window shows first). */
export function showNothing(...nodes) {
  closeAside();
  fill(regions.main, ...nodes);
  document.body.classList.remove('page-open');
}

/** Shows `panel` (labelled by `name`) beside the main region. */
export function showAside(panel, name) {
  fill(regions.aside, panel);
  regions.aside.hidden = false;
  regions.aside.dataset.panel = name;
  document.body.classList.add('aside-open');
}

export function closeAside() {
  if (!regions.aside) return;
  regions.aside.replaceChildren();
  regions.aside.hidden = true;
  delete regions.aside.dataset.panel;
  document.body.classList.remove('aside-open');
}

/** The name of the panel beside the main region, if one is open. */
export function asideName() {
  return regions.aside && !regions.aside.hidden ? regions.aside.dataset.panel : null;
}

/** Says `text` to a screen reader (new messages from others, as they come). */
export function announce(text) {
  const announcer = document.getElementById('announcer');
  announcer.textContent = '';
  announcer.textContent = text;
}
