// A thread beside the main view: its first message, its replies (oldest
// first, as the API lists them) and a composer that replies in it.

import * as api from './api.js';
import { h } from './dom.js';
import { attempt } from './errors.js';
import { announce, closeAside, regions, showAside } from './layout.js';
import { composer } from './composer.js';
import { messageElement, replaceMessage } from './message.js';
import { emit, on, putMessage, state } from './state.js';

/** The open thread's panel, to update in place. */
let panel = null;

/** Opens the thread of `parent` (a Message, or `{id}` alone to load it). */
export async function openThread(parent) {
  const talkId = state.openTalkId;
  const [first, replies] = await Promise.all([
    parent.talk_id ? parent : attempt('open the thread', () => api.getMessage(parent.id)),
    attempt('load the replies', () => api.allPages((token) => api.listReplies(parent.id, token))),
  ]);
  if (!first || !replies || state.openTalkId !== talkId) return;
  if (!state.messages.has(first.id)) state.messages.set(first.id, first);
  for (const reply of replies) state.messages.set(reply.id, reply);
  state.thread = { parentId: first.id, ids: replies.map((reply) => reply.id) };

  const list = h('ol', { class: 'messages thread-replies', 'aria-label': 'Replies' });
  const replyComposer = composer({ talkId, parentId: first.id, label: 'Reply in the thread', onSent: showSent });
  const talk = state.talks.get(talkId);
  if (talk && talk.status === 'closed') replyComposer.setEnabled(false, 'This talk is closed');
  const element = h('section', { class: 'panel thread', 'aria-labelledby': 'thread-title' },
    h('header', { class: 'panel-header' },
      h('h2', { id: 'thread-title', tabIndex: -1 }, 'Thread'),
      h('button', { type: 'button', class: 'quiet', 'aria-label': 'Close the thread', onclick: () => closeThread() }, '×')),
    h('ol', { class: 'messages thread-parent', 'aria-label': 'First message' }),
    list,
    replyComposer.element);
  panel = { element, parentList: element.querySelector('.thread-parent'), list, composer: replyComposer, elements: new Map() };
  panel.parentList.append(draw(first));
  list.append(...state.thread.ids.map((id) => draw(state.messages.get(id))));
  showAside(element, 'thread');
  list.scrollTop = list.scrollHeight;
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented && event.target.tagName !== 'TEXTAREA') closeThread();
  });
  emit('aside');
  replyComposer.focus();
}

/** My reply, shown at once (its event, when it comes, finds it there). */
function showSent(reply) {
  if (!panel || !state.thread || state.thread.ids.includes(reply.id)) return;
  state.thread.ids.push(reply.id);
  panel.list.append(draw(reply));
  panel.list.lastElementChild.scrollIntoView({ block: 'nearest' });
}

function closeThread() {
  state.thread = null;
  panel = null;
  closeAside();
  emit('aside');
}

function draw(message) {
  const element = messageElement(message, { inThread: true });
  panel.elements.set(message.id, element);
  return element;
}

on('message', (message) => {
  const old = panel && regions.aside.contains(panel.element) && panel.elements.get(message.id);
  if (old) replaceMessage(old, draw(message));
});
on('thread-added', (message) => {
  if (!panel) return;
  panel.list.append(draw(message));
  panel.list.lastElementChild.scrollIntoView({ block: 'nearest' });
  if (message.agent_id !== state.me) announce(`${message.agent_id} in the thread: ${message.text}`);
});

on('talk', (talk) => {
  if (panel) panel.composer.setEnabled(talk.status !== 'closed', 'This talk is closed');
});

/** Forgets the thread when another panel takes its place. */
export function forgetThread() {
  state.thread = null;
  panel = null;
}
