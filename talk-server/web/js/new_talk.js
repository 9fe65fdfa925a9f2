// The "new talk" page: a group talk (named, with participants), a direct
// talk (with one other agent; asking again opens the same one) or a public
// talk (listed in the directory for anyone to join).

import * as api from './api.js';
import { h } from './dom.js';
import { attempt } from './errors.js';
import { showPage } from './layout.js';
import { mergeTalk, state } from './state.js';

export function showNewTalk() {
  const others = state.agents.filter((agent) => agent !== state.me);
  const kinds = [
    ['group', 'Group', 'a named talk with the agents you pick'],
    ['direct', 'Direct', 'just you and one other agent'],
    ['public', 'Public', 'listed in the directory: anyone may join'],
  ];
  const name = h('input', { id: 'talk-name', name: 'name', type: 'text', maxLength: 200, autocomplete: 'off' });
  const detail = h('input', { id: 'talk-detail', name: 'detail', type: 'text', maxLength: 2000, autocomplete: 'off' });
  const form = h('form', { class: 'page-form', 'aria-labelledby': 'new-talk-title' },
    h('h2', { id: 'new-talk-title', tabIndex: -1 }, 'New talk'),
    h('fieldset', {},
      h('legend', {}, 'Kind'),
      kinds.map(([value, label, hint], index) => h('label', { class: 'choice' },
        h('input', { type: 'radio', name: 'type', value, checked: index === 0 }),
        ` ${label} `, h('span', { class: 'hint' }, `(${hint})`)))),
    h('label', { for: 'talk-name' }, 'Name'), name,
    h('label', { for: 'talk-detail' }, 'Detail (optional)'), detail,
    h('fieldset', {},
      h('legend', {}, 'Participants'),
      others.length ? others.map((agent) => h('label', { class: 'choice' },
        h('input', { type: 'checkbox', name: 'participant', value: agent }), ` ${agent}`)) : h('p', {}, 'No other agents known.')),
    h('div', { class: 'row' }, h('button', { type: 'submit' }, 'Create'), h('a', { href: '#/', class: 'button quiet' }, 'Cancel')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const type = data.get('type');
    const participants = data.getAll('participant');
    const body = { type, name: name.value.trim(), participant_ids: participants };
    // A direct talk's name is optional: without one, both agents' ids tell it apart in the list.
    if (type === 'direct' && !body.name && participants.length === 1) body.name = `${state.me} & ${participants[0]}`;
    if (detail.value.trim()) body.detail = detail.value.trim();
    const talk = await attempt(`create the ${type} talk`, () => api.createTalk(body));
    if (!talk) return;
    mergeTalk(talk, { insert: true });
    location.hash = `#/talk/${talk.id}`;
  });
  showPage(form);
  name.focus();
}
