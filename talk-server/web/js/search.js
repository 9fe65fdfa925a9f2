// Message search: the results page (newest first) with each hit in its
// context; opening a result opens its talk at that message.

import * as api from './api.js';
import { fill, h, timeElement } from './dom.js';
import { attempt } from './errors.js';
import { showPage } from './layout.js';
import { state, talkTitle } from './state.js';

export async function showSearch(q) {
  const results = h('ol', { class: 'results', 'aria-label': 'Search results' });
  const more = h('button', { type: 'button', class: 'link', hidden: true }, 'More results');
  showPage(h('section', { class: 'page', 'aria-labelledby': 'search-title' },
    h('h2', { id: 'search-title', tabIndex: -1 }, `Messages matching “${q}”`), results, more));
  let next = '';
  const load = async (append) => {
    const page = await attempt('search', () => api.searchMessages(q, append ? next : undefined));
    if (!page) return;
    next = page.next_page_token;
    more.hidden = !next;
    const items = page.result.map(resultItem);
    if (append) results.append(...items);
    else fill(results, items.length ? items : h('li', { class: 'empty' }, 'No message matches.'));
  };
  more.addEventListener('click', () => load(true));
  await load(false);
  document.getElementById('search-title')?.focus();
}

function resultItem({ message, highlight }) {
  const talk = state.talks.get(message.talk_id);
  return h('li', { class: 'result', dataset: { messageId: message.id } },
    h('a', { href: `#/talk/${message.talk_id}/message/${message.id}`, class: 'result-link' },
      h('span', { class: 'meta' },
        h('span', { class: 'author' }, message.agent_id), ' in ',
        h('span', { class: 'talk-name' }, talk ? talkTitle(talk) : 'a talk'),
        message.parent_id ? ' (thread)' : '', ' · ', timeElement(message.tm_create)),
      h('span', { class: 'highlight' }, highlightNodes(highlight))));
}

/**
 * The API's highlight is HTML-escaped text with the hits in `<mark>`: made
 * into text nodes and `<mark>` elements here, never parsed as HTML.
 */
export function highlightNodes(highlight) {
  return highlight.split(/(<mark>|<\/mark>)/).reduce((state, part) => {
    if (part === '<mark>') state.marked = true;
    else if (part === '</mark>') state.marked = false;
    else if (part) state.nodes.push(state.marked ? h('mark', {}, unescape(part)) : unescape(part));
    return state;
  }, { marked: false, nodes: [] }).nodes;
}

const ENTITIES = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

function unescape(text) {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]);
}
