// A message's reactions: one button per emoji with its count (who reacted
// in its tooltip; pressing it adds or takes back mine), and a picker of the
// common emoji of the Talk overview plus any emoji or shortcode typed in.

import * as api from './api.js';
import { h } from './dom.js';
import { attempt } from './errors.js';
import { putMessage, state } from './state.js';

/** The common reactions of the Talk overview. */
const COMMON = [
  ['👍', 'thumbs up'], ['👎', 'thumbs down'], ['❤️', 'heart'],
  ['🎉', 'party popper'], ['👀', 'eyes'], ['✅', 'check mark'],
];

export function reactionBar(message) {
  const chips = message.reactions.map((reaction) => {
    const mine = reaction.agent_ids.includes(state.me);
    const others = reaction.count - reaction.agent_ids.length;
    const who = reaction.agent_ids.join(', ') + (others > 0 ? ` and ${others} more` : '');
    return h('button', {
      type: 'button',
      class: 'reaction',
      'aria-pressed': String(mine),
      title: who,
      'aria-label': `${reaction.emoji} ${reaction.count}: ${who}${mine ? ' (press to take yours back)' : ''}`,
      dataset: { emoji: reaction.emoji },
      onclick: () => toggle(message, reaction.emoji, mine),
    }, h('span', { class: 'emoji' }, reaction.emoji), h('span', { class: 'count' }, String(reaction.count)));
  });
  return h('div', { class: 'reactions' }, chips, picker(message));
}

function toggle(message, emoji, mine) {
  const doing = mine ? 'take back the reaction' : 'react';
  attempt(doing, async () => putMessage(await (mine ? api.unreact(message.id, emoji) : api.react(message.id, emoji))));
}

function add(message, emoji) {
  return attempt(`react with ${emoji}`, async () => {
    const reacted = await api.react(message.id, emoji);
    picked = null;
    putMessage(reacted);
  });
}

/** The message whose picker is open and what its field holds: a redraw keeps them. */
let picked = null;

/** A disclosure: the common emoji, and a field for any emoji or shortcode. */
function picker(message) {
  const open = picked !== null && picked.messageId === message.id;
  const field = h('input', {
    type: 'text', name: 'emoji', value: open ? picked.typed : '',
    placeholder: 'thumbsup, :tada:, 🚀', autocomplete: 'off', 'aria-label': 'Emoji or shortcode',
  });
  const form = h('form', { class: 'row' }, field, h('button', { type: 'submit' }, 'Add'));
  const details = h('details', { class: open && picked.up ? 'picker up' : 'picker', open },
    h('summary', { 'aria-label': 'Add a reaction', title: 'Add a reaction' }, '☺︎+'),
    h('div', { class: 'picker-body' },
      h('div', { class: 'common' }, COMMON.map(([emoji, name]) =>
        h('button', { type: 'button', class: 'quiet', 'aria-label': `React with ${name}`, title: name, onclick: () => add(message, emoji) }, emoji))),
      form));
  // Kept at the click, before the disclosure opens: a redraw in between keeps it open.
  details.querySelector('summary').addEventListener('click', () => {
    picked = details.open ? null : { messageId: message.id, typed: field.value, up: details.getBoundingClientRect().top > window.innerHeight / 2 };
  });
  details.addEventListener('toggle', () => {
    if (!details.open) {
      if (picked && picked.messageId === message.id) picked = null;
      return;
    }
    // One picker at a time, opening upwards in the lower half of the window.
    for (const other of document.querySelectorAll('details.picker[open]')) if (other !== details) other.open = false;
    const up = details.getBoundingClientRect().top > window.innerHeight / 2;
    details.classList.toggle('up', up);
    picked = { messageId: message.id, typed: field.value, up };
  });
  field.addEventListener('input', () => {
    if (picked && picked.messageId === message.id) picked.typed = field.value;
  });
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const emoji = field.value.trim();
    if (emoji) add(message, emoji);
  });
  details.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') {
      event.preventDefault();
      details.open = false;
      details.querySelector('summary').focus();
    }
  });
  return details;
}
