// The form that sends a message: text (Enter sends, Shift+Enter is a new
// line), `@agent-id` mentions of the talk's participants, and links to
// media. Used by the main view and by the thread panel (with `parentId`).

import * as api from './api.js';
import { h } from './dom.js';
import { attempt } from './errors.js';
import { mentionsIn } from './message.js';
import { putMessage } from './state.js';
import { myTyping, typingIndicator } from './typing.js';

/** A composer for `talkId` (and the thread of `parentId`); `onSent(message)` after each send. */
export function composer({ talkId, parentId = null, label, onSent }) {
  const fieldId = `composer-${parentId ?? 'main'}`;
  const text = h('textarea', { id: fieldId, name: 'text', rows: 2, placeholder: label, autocomplete: 'off' });
  const mediaName = h('input', { type: 'text', name: 'media-name', placeholder: 'report.pdf', 'aria-label': 'Attachment name' });
  const mediaUrl = h('input', { type: 'url', name: 'media-url', placeholder: 'https://…', 'aria-label': 'Attachment URL' });
  const mediaType = h('input', { type: 'text', name: 'media-type', value: 'application/octet-stream', 'aria-label': 'Attachment type' });
  const attach = h('details', { class: 'attach' },
    h('summary', {}, 'Attach a link'),
    h('div', { class: 'row' }, mediaName, mediaUrl, mediaType));
  const send = h('button', { type: 'submit' }, 'Send');
  const form = h('form', { class: 'composer' },
    typingIndicator(talkId, parentId),
    h('label', { for: fieldId, class: 'visually-hidden' }, label),
    text, h('div', { class: 'row' }, attach, send));
  const typing = myTyping(talkId, parentId);
  text.addEventListener('input', () => typing.changed(text.value));

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const body = { text: text.value };
    if (parentId) body.parent_id = parentId;
    const mentions = mentionsIn(text.value);
    if (mentions.length) body.mentions = mentions;
    if (mediaUrl.value.trim()) {
      body.medias = [{ type: mediaType.value.trim(), url: mediaUrl.value.trim(), name: mediaName.value.trim() || mediaUrl.value.trim().split('/').pop() }];
    }
    send.disabled = true;
    const sent = await attempt('send the message', () => api.sendMessage(talkId, body));
    send.disabled = false;
    if (!sent) return;
    typing.sent();
    text.value = '';
    mediaName.value = '';
    mediaUrl.value = '';
    attach.open = false;
    putMessage(sent);
    onSent(sent);
    text.focus();
  });
  text.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return { element: form, focus: () => text.focus(), setEnabled(enabled, why) {
    text.disabled = !enabled;
    send.disabled = !enabled;
    text.placeholder = enabled ? label : why;
  } };
}
