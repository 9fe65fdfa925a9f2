// The sidebar's talk list: my talks in the API's order (newest first), each
// with its unread and mention badges; the open one is marked.

import { fill, h } from './dom.js';
import { on, orderedTalks, state, talkTitle } from './state.js';

let list = null;

/** Draws the list into `element` now and after every change. */
export function mountTalkList(element) {
  list = element;
  draw();
}

function draw() {
  if (!list) return;
  const talks = orderedTalks();
  if (!talks.length) {
    fill(list, h('li', { class: 'empty' }, 'No talks yet: start one, or join a public one.'));
    return;
  }
  fill(list, talks.map((talk) => {
    const unread = talk.unread_count || 0;
    const mentions = talk.mention_count || 0;
    const counts = [unread ? `${unread} unread` : null, mentions ? `${mentions} mentioning you` : null].filter(Boolean);
    return h('li', {},
      h('a', {
        href: `#/talk/${talk.id}`,
        class: `talk-link${unread ? ' has-unread' : ''}`,
        'aria-current': talk.id === state.openTalkId ? 'page' : null,
        'aria-label': [talkTitle(talk), talk.status === 'closed' ? 'closed' : null, ...counts].filter(Boolean).join(', '),
        dataset: { talkId: talk.id },
      },
      h('span', { class: 'talk-kind', 'aria-hidden': 'true' }, { direct: '●', public: '#', group: '◆' }[talk.type] || '◆'),
      h('span', { class: 'talk-name' }, talkTitle(talk)),
      talk.status === 'closed' ? h('span', { class: 'tag' }, 'closed') : null,
      mentions ? h('span', { class: 'badge mention', 'aria-hidden': 'true' }, `@${mentions}`) : null,
      unread ? h('span', { class: 'badge unread', 'aria-hidden': 'true' }, String(unread)) : null));
  }));
}

on('talks', draw);
