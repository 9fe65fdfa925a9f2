// One message as an element: author, time, text with its mentions, media
// links, reactions, and the actions its reader may take. System messages
// are a line of their own style. The element is drawn anew on each change.

import * as api from './api.js';
import { h, timeElement } from './dom.js';
import { attempt } from './errors.js';
import { reactionBar } from './reactions.js';
import { seenBy } from './receipts.js';
import { agentName, putMessage, state } from './state.js';

/**
 * The element of `message`. `options.inThread`: drawn in the thread panel
 * (no reply button); `options.onOpenThread(message)`: opens its thread.
 */
export function messageElement(message, options = {}) {
  const dataset = { messageId: message.id };
  if (message.type === 'system') {
    return h('li', { class: 'message system', dataset },
      h('span', { class: 'system-text' }, message.text), ' ', timeElement(message.tm_create));
  }
  const deleted = message.tm_delete !== null;
  const mine = message.agent_id === state.me;
  const item = h('li', { class: `message${mine ? ' mine' : ''}${deleted ? ' deleted' : ''}`, dataset },
    h('div', { class: 'meta' },
      h('span', { class: 'author' }, agentName(message.agent_id)), ' ',
      timeElement(message.tm_create),
      message.tm_edit && !deleted ? h('span', { class: 'edited', title: new Date(message.tm_edit).toLocaleString() }, ' (edited)') : null),
    textOrForm(message, deleted),
    deleted ? null : mediaList(message.medias),
    deleted ? null : reactionBar(message),
    actions(message, mine && !deleted, options),
    options.inThread ? null : receipts(message));
  return item;
}

function textOrForm(message, deleted) {
  if (deleted) return h('p', { class: 'text tombstone' }, 'This message was deleted.');
  return drafts.has(message.id) ? editForm(message) : textElement(message);
}

/** The text, with each mention of an agent the message names set apart. */
function textElement(message) {
  const paragraph = h('p', { class: 'text' });
  const mentioned = new Set(message.mentions || []);
  let shown = 0;
  for (const match of message.text.matchAll(MENTION)) {
    const agent = trimMention(match[1]);
    if (!mentioned.has(agent)) continue;
    paragraph.append(message.text.slice(shown, match.index));
    paragraph.append(h('span', { class: `mention${agent === state.me ? ' me' : ''}` }, `@${agent}`));
    shown = match.index + 1 + agent.length;
  }
  paragraph.append(message.text.slice(shown));
  return paragraph;
}

/** `@` and an agent id (the API's agent id characters). */
const MENTION = /@([A-Za-z0-9._\-@:]+)/g;

/** A mention without the punctuation that ends its sentence ("@agent-1:"). */
function trimMention(name) {
  return name.replace(/[.:]+$/, '');
}

function mediaList(medias) {
  if (!medias.length) return null;
  return h('ul', { class: 'medias', 'aria-label': 'Attachments' },
    medias.map((media) => h('li', {},
      h('a', { href: media.url, target: '_blank', rel: 'noopener noreferrer' }, `📎 ${media.name}`),
      h('span', { class: 'media-type' }, ` ${media.type}`))));
}

function actions(message, editable, options) {
  const buttons = [];
  if (!options.inThread && message.parent_id === null) {
    const replies = message.reply_count;
    const label = replies === 0 ? 'Reply in thread' : `${replies} ${replies === 1 ? 'reply' : 'replies'}`;
    buttons.push(h('button', { type: 'button', class: 'link thread-button', onclick: () => options.onOpenThread(message) }, label));
  }
  if (editable) {
    if (!drafts.has(message.id)) buttons.push(h('button', { type: 'button', class: 'link edit-button', onclick: () => startEdit(message) }, 'Edit'));
    buttons.push(deleteButton(message));
  }
  return buttons.length ? h('div', { class: 'actions' }, buttons) : null;
}

/** Drafts of the edits under way, by message id: a redraw keeps them. */
const drafts = new Map();
/** Messages whose Delete was pressed once (the second press deletes). */
const armed = new Set();

/** The message's latest state: what is stored, else what was drawn. */
function latest(message) {
  return state.messages.get(message.id) || message;
}

function startEdit(message) {
  drafts.set(message.id, message.text);
  putMessage(latest(message));
  document.querySelector(`.message[data-message-id="${CSS.escape(message.id)}"] textarea.edit-text`)?.focus();
}

function stopEdit(message) {
  drafts.delete(message.id);
  putMessage(latest(message));
}

/** The form that edits the text, in place of it; Escape or Cancel puts the text back. */
function editForm(message) {
  const input = h('textarea', { class: 'edit-text', value: drafts.get(message.id), rows: 2, 'aria-label': 'Edit the message' });
  input.addEventListener('input', () => drafts.set(message.id, input.value));
  const form = h('form', { class: 'edit' }, input,
    h('div', { class: 'row' },
      h('button', { type: 'submit' }, 'Save'),
      h('button', { type: 'button', class: 'quiet', onclick: () => stopEdit(message) }, 'Cancel')));
  form.addEventListener('submit', async (submitted) => {
    submitted.preventDefault();
    const text = drafts.get(message.id);
    const edited = await attempt('edit the message', () => api.editMessage(message.id, { text, mentions: mentionsIn(text) }));
    if (!edited) return;
    drafts.delete(message.id);
    putMessage(edited);
  });
  input.addEventListener('keydown', (key) => {
    if (key.key === 'Escape') {
      key.preventDefault();
      stopEdit(message);
    } else if (key.key === 'Enter' && !key.shiftKey) {
      key.preventDefault();
      form.requestSubmit();
    }
  });
  return form;
}

/** The first press asks, the second deletes. */
function deleteButton(message) {
  const asking = armed.has(message.id);
  return h('button', {
    type: 'button',
    class: 'link danger delete-button',
    onclick: () => {
      if (!asking) {
        armed.add(message.id);
        putMessage(latest(message));
        return;
      }
      armed.delete(message.id);
      attempt('delete the message', async () => putMessage(await api.deleteMessage(message.id)));
    },
  }, asking ? 'Delete for everyone?' : 'Delete');
}

/** The controls of a message that keep the focus when it is drawn anew. */
const FOCUSABLE = ['textarea.edit-text', '.picker input[name=emoji]', '.picker summary', '.reaction', '.thread-button', '.edit-button', '.delete-button'];

/**
 * Puts the new element of a message in place of the old one; the control
 * that had the focus (a field being typed in, a button) keeps it.
 */
export function replaceMessage(old, fresh) {
  const active = old.contains(document.activeElement) ? document.activeElement : null;
  const selector = active && FOCUSABLE.find((candidate) => active.matches(candidate));
  const emoji = active && active.dataset.emoji;
  old.replaceWith(fresh);
  if (!selector) return;
  const same = emoji ? fresh.querySelector(`.reaction[data-emoji="${CSS.escape(emoji)}"]`) : fresh.querySelector(selector);
  if (!same) return;
  same.focus();
  if (same.setSelectionRange) same.setSelectionRange(same.value.length, same.value.length);
}

/** "Seen by …": the other participants whose read marker is at this message. */
function receipts(message) {
  const readers = seenBy(message).filter((agent) => agent !== state.me);
  if (!readers.length) return null;
  return h('p', { class: 'receipts' }, `Seen by ${readers.join(', ')}`);
}

/** The agents named `@agent-id` in a text who are participants of the open talk. */
export function mentionsIn(text) {
  const active = new Set(state.participants.map((p) => p.agent_id));
  const named = [...text.matchAll(MENTION)].map((match) => trimMention(match[1]));
  return [...new Set(named.filter((agent) => active.has(agent)))];
}
