// An open talk: its header, its messages (the main view, newest at the
// bottom, older pages on request), and the composer. It marks the talk read
// while the reader looks at it, and opens threads and the participants panel
// beside itself.

import * as api from './api.js';
import { debouncer, fill, h } from './dom.js';
import { attempt } from './errors.js';
import { announce, asideName, closeAside, showPage } from './layout.js';
import { composer } from './composer.js';
import { messageElement, replaceMessage } from './message.js';
import { toggleParticipants, loadParticipants } from './participants.js';
import { loadPresence } from './presence.js';
import { loadReads, markedIds } from './receipts.js';
import { emit, on, setCounts, state, talkTitle } from './state.js';
import { openThread } from './thread.js';

const soon = debouncer(400);

/** What the open talk's page holds, to update it in place. */
let view = null;

/** Opens a talk: one request each for its messages, participants and read markers. */
export async function openTalk(talkId, { focusMessageId = null } = {}) {
  const talk = state.talks.get(talkId);
  state.openTalkId = talkId;
  state.messages = new Map();
  state.mainIds = [];
  state.olderPage = '';
  state.thread = null;
  state.participants = [];
  state.reads = new Map();
  state.presence = new Map();
  view = buildView(talkId);
  showPage(view.element);
  drawHeader(talk);
  emit('talks');

  const [page] = await Promise.all([
    attempt('load the messages', () => api.listMessages(talkId)),
    attempt('load the participants', () => loadParticipants(talkId)),
    attempt('load the read receipts', () => loadReads(talkId)),
    attempt('load who is online', () => loadPresence(talkId)),
  ]);
  if (state.openTalkId !== talkId || !page) return;
  addOlder(page);
  scrollDown(true);
  markReadIfUnread();
  if (focusMessageId) await showMessage(focusMessageId);
  else view.composer.focus();
}

function buildView(talkId) {
  const title = h('h2', { tabIndex: -1, id: 'talk-title' });
  const about = h('p', { class: 'about' });
  const participantsButton = h('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': 'aside', onclick: () => toggleParticipants() }, 'Participants');
  const back = h('a', { href: '#/', class: 'back', 'aria-label': 'Back to the talk list' }, '←');
  const older = h('button', { type: 'button', class: 'link older', hidden: true, onclick: () => loadOlder() }, 'Load older messages');
  const list = h('ol', { class: 'messages', 'aria-label': 'Messages' });
  const notice = h('p', { class: 'notice', hidden: true });
  const talkComposer = composer({ talkId, label: 'Write a message', onSent: showSent });
  const element = h('section', { class: 'talk-view', 'aria-labelledby': 'talk-title' },
    h('header', { class: 'talk-header' }, back, h('div', { class: 'grow' }, title, about), participantsButton),
    h('div', { class: 'scroller' }, older, list),
    notice,
    talkComposer.element);
  return { talkId, element, title, about, participantsButton, older, list, notice, composer: talkComposer, elements: new Map(), marked: new Set() };
}

function drawHeader(talk) {
  if (!view || !talk) return;
  fill(view.title, talkTitle(talk));
  const parts = [talk.type, talk.status === 'closed' ? 'closed' : null, talk.detail || null].filter(Boolean);
  fill(view.about, parts.join(' · '));
  const closed = talk.status === 'closed';
  view.element.classList.toggle('closed', closed);
  view.notice.hidden = !closed;
  fill(view.notice, 'This talk is closed: reopen it from the participants panel to write again.');
  view.composer.setEnabled(!closed, 'This talk is closed');
}

/** Adds a page of the main view (newest first) above what is shown, keeping the reader's place. */
function addOlder(page) {
  const ids = [];
  for (const message of page.result.slice().reverse()) {
    if (!state.messages.has(message.id)) state.messages.set(message.id, message);
    if (!state.mainIds.includes(message.id)) ids.push(message.id);
  }
  state.mainIds = [...ids, ...state.mainIds];
  state.olderPage = page.next_page_token;
  const scroller = view.list.parentElement;
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  view.list.prepend(...ids.map((id) => draw(state.messages.get(id))));
  view.older.hidden = !state.olderPage;
  scroller.scrollTop = scroller.scrollHeight - fromBottom;
}

async function loadOlder() {
  const talkId = view.talkId;
  const page = await attempt('load older messages', () => api.listMessages(talkId, state.olderPage));
  if (page && state.openTalkId === talkId) addOlder(page);
  return Boolean(page);
}

/** My message, shown at once (its event, when it comes, finds it there). */
function showSent(message) {
  if (!view || state.mainIds.includes(message.id)) return;
  state.mainIds.push(message.id);
  view.list.append(draw(message));
  scrollDown(true);
}

function draw(message) {
  const element = messageElement(message, { onOpenThread: (parent) => openThread(parent) });
  view.elements.set(message.id, element);
  return element;
}

function redraw(id) {
  const old = view && view.elements.get(id);
  const message = state.messages.get(id);
  if (old && message) replaceMessage(old, draw(message));
}

function scrollDown(always) {
  const { list } = view;
  const scroller = list.parentElement;
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  if (always || nearBottom) scroller.scrollTop = scroller.scrollHeight;
}

/** Brings a message into view (loading older pages, or opening its thread) and flashes it. */
async function showMessage(messageId) {
  let message = state.messages.get(messageId) || (await attempt('open the message', () => api.getMessage(messageId)));
  if (!message || !view) return;
  if (message.parent_id) {
    await openThread(state.messages.get(message.parent_id) || { id: message.parent_id });
    flash(document.querySelector(`#aside [data-message-id="${CSS.escape(messageId)}"]`));
    return;
  }
  while (!view.elements.has(messageId) && state.olderPage) {
    if (!(await loadOlder())) return;
  }
  flash(view.elements.get(messageId));
}

function flash(element) {
  if (!element) return;
  element.scrollIntoView({ block: 'center' });
  element.classList.add('flash');
  element.tabIndex = -1;
  element.focus();
  setTimeout(() => element.classList.remove('flash'), 2500);
}

/** Marks the open talk read up to its newest message, if anything is unread. */
function markReadIfUnread() {
  const talk = state.talks.get(state.openTalkId);
  if (!talk || !(talk.unread_count > 0 || talk.mention_count > 0)) return;
  markRead(talk.id);
}

/** Moves my read marker to the talk's newest message; the answer has my new counts. */
function markRead(talkId) {
  return attempt('mark the talk read', async () => {
    const read = await api.markRead(talkId);
    setCounts(talkId, read.unread_count, read.mention_count);
  });
}

on('talk', (talk) => drawHeader(talk));
on('message', (message) => {
  redraw(message.id);
});
on('main-added', (message) => {
  if (!view) return;
  view.list.append(draw(message));
  scrollDown(message.agent_id === state.me);
  if (message.agent_id !== state.me) announce(message.type === 'system' ? message.text : `${message.agent_id}: ${message.text}`);
});
on('reads', () => {
  if (!view) return;
  const now = markedIds();
  for (const id of new Set([...view.marked, ...now])) redraw(id);
  view.marked = now;
});
on('unseen', (talkId) => {
  // Several messages in a row make one request.
  if (talkId === state.openTalkId && document.visibilityState === 'visible') soon(talkId, () => markRead(talkId));
});
on('participants', () => {
  if (view) fill(view.participantsButton, `Participants (${state.participants.length})`);
});
on('aside', () => {
  if (view) view.participantsButton.setAttribute('aria-expanded', String(asideName() === 'participants'));
});
on('left', (talkId) => {
  if (!view || view.talkId !== talkId) return;
  closeAside();
  view.notice.hidden = false;
  fill(view.notice, 'You are no longer a participant of this talk.');
  view.composer.setEnabled(false, 'You left this talk');
});

document.addEventListener('visibilitychange', () => {
  if (document.visibilityState === 'visible' && state.openTalkId) markReadIfUnread();
});

/** Forgets the open talk (another page is shown). */
export function closeTalk() {
  state.openTalkId = null;
  state.thread = null;
  view = null;
  emit('talks');
}
