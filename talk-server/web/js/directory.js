// The directory of public talks: search by name, join, or open one already joined.

import * as api from './api.js';
import { fill, h } from './dom.js';
import { attempt } from './errors.js';
import { loadTalks } from './events.js';
import { showPage } from './layout.js';
import { state, talkTitle } from './state.js';

export function showDirectory() {
  const field = h('input', { id: 'directory-q', name: 'q', type: 'search', autocomplete: 'off', placeholder: 'words of the name' });
  const results = h('ul', { class: 'results', 'aria-label': 'Public talks' });
  const more = h('button', { type: 'button', class: 'link', hidden: true }, 'More');
  const form = h('form', { class: 'row', role: 'search' },
    h('label', { for: 'directory-q', class: 'visually-hidden' }, 'Find public talks'), field,
    h('button', { type: 'submit' }, 'Find'));
  let next = '';
  const load = async (append) => {
    const page = await attempt('load the directory', () => api.listPublicTalks(field.value.trim(), append ? next : undefined));
    if (!page) return;
    next = page.next_page_token;
    more.hidden = !next;
    const items = page.result.map(item);
    if (append) results.append(...items);
    else fill(results, items.length ? items : h('li', { class: 'empty' }, 'No public talk matches.'));
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener('click', () => load(true));
  showPage(h('section', { class: 'page', 'aria-labelledby': 'directory-title' },
    h('h2', { id: 'directory-title', tabIndex: -1 }, 'Public talks'), form, results, more));
  field.focus();
  load(false);
}

function item(talk) {
  const joined = state.talks.has(talk.id);
  const action = joined
    ? h('a', { href: `#/talk/${talk.id}`, class: 'button secondary' }, 'Open')
    : h('button', { type: 'button', onclick: () => join(talk) }, 'Join');
  return h('li', { class: 'result', dataset: { talkId: talk.id } },
    h('div', { class: 'grow' },
      h('strong', {}, talkTitle(talk)),
      h('span', { class: 'hint' }, ` · ${talk.member_count} ${talk.member_count === 1 ? 'member' : 'members'}`),
      talk.detail ? h('p', { class: 'hint' }, talk.detail) : null),
    action);
}

async function join(talk) {
  const joined = await attempt(`join ${talkTitle(talk)}`, async () => {
    await api.joinTalk(talk.id);
    await loadTalks();
    return true;
  });
  if (joined) location.hash = `#/talk/${talk.id}`;
}
