// The open talk's participants panel: who is in it (and how far each has
// read), adding and removing participants, leaving, closing and reopening.

import * as api from './api.js';
import { fill, h, timeElement } from './dom.js';
import { attempt } from './errors.js';
import { asideName, closeAside, showAside } from './layout.js';
import { presenceDot } from './presence.js';
import { agentName, dropTalk, emit, mergeTalk, on, state } from './state.js';
import { forgetThread } from './thread.js';

let panel = null;

/** Loads the open talk's active participants (in join order). */
export async function loadParticipants(talkId) {
  const participants = await api.allPages((token) => api.listParticipants(talkId, token));
  if (talkId !== state.openTalkId) return;
  state.participants = participants;
  emit('participants');
}

/** Opens the panel beside the talk, or closes it. */
export function toggleParticipants() {
  if (asideName() === 'participants') {
    panel = null;
    closeAside();
  } else {
    forgetThread();
    panel = build();
    showAside(panel.element, 'participants');
    draw();
    panel.title.focus();
  }
  emit('aside');
}

function build() {
  const title = h('h2', { id: 'participants-title', tabIndex: -1 }, 'Participants');
  const list = h('ul', { class: 'participants', 'aria-labelledby': 'participants-title' });
  const known = h('datalist', { id: 'known-agents' }, state.agents.map((agent) => h('option', { value: agent })));
  const field = h('input', { id: 'add-participant', name: 'agent_id', type: 'text', list: 'known-agents', autocomplete: 'off', placeholder: 'agent id' });
  const add = h('form', { class: 'add-participant' },
    h('label', { for: 'add-participant' }, 'Add a participant'),
    h('div', { class: 'row' }, field, h('button', { type: 'submit' }, 'Add')), known);
  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    const agentId = field.value.trim();
    if (!agentId) return;
    const added = await attempt(`add ${agentId}`, () => api.addParticipant(state.openTalkId, agentId));
    if (!added) return;
    field.value = '';
    // Shown at once; its event, when it comes, finds it there.
    if (added.talk_id === state.openTalkId && !state.participants.some((p) => p.id === added.id)) {
      state.participants.push(added);
      emit('participants');
    }
  });
  const talkActions = h('div', { class: 'talk-actions' });
  const element = h('section', { class: 'panel participants-panel', 'aria-labelledby': 'participants-title' },
    h('header', { class: 'panel-header' }, title,
      h('button', { type: 'button', class: 'quiet', 'aria-label': 'Close the participants panel', onclick: () => toggleParticipants() }, '×')),
    list, add, talkActions);
  element.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !event.defaultPrevented) toggleParticipants();
  });
  return { element, title, list, add, talkActions };
}

function draw() {
  if (!panel) return;
  const talk = state.talks.get(state.openTalkId);
  fill(panel.list, state.participants.map((participant) => {
    const mine = participant.agent_id === state.me;
    const read = state.reads.get(participant.agent_id);
    return h('li', { dataset: { agentId: participant.agent_id } },
      h('span', { class: 'grow' },
        presenceDot(participant.agent_id),
        h('span', { class: 'author' }, agentName(participant.agent_id)),
        read && read.tm_read ? h('span', { class: 'read-at' }, ' · read ', timeElement(read.tm_read)) : null),
      h('button', {
        type: 'button',
        class: mine ? 'link danger leave' : 'link danger',
        'aria-label': mine ? 'Leave this talk' : `Remove ${participant.agent_id}`,
        onclick: () => remove(participant, mine),
      }, mine ? 'Leave' : 'Remove'));
  }));
  const closed = talk && talk.status === 'closed';
  panel.add.hidden = Boolean(closed);
  fill(panel.talkActions, talk ? h('button', {
    type: 'button',
    class: 'secondary',
    onclick: () => closeOrReopen(talk),
  }, closed ? 'Reopen talk' : 'Close talk') : null);
}

async function remove(participant, mine) {
  const doing = mine ? 'leave the talk' : `remove ${participant.agent_id}`;
  const left = await attempt(doing, () => api.removeParticipant(participant.talk_id, mine ? 'me' : participant.id));
  if (!left) return;
  // Shown at once, as its event will (which then changes nothing).
  if (mine) {
    dropTalk(left.talk_id);
    if (left.talk_id === state.openTalkId) emit('left', left.talk_id);
  } else if (left.talk_id === state.openTalkId) {
    state.participants = state.participants.filter((p) => p.id !== left.id);
    emit('participants');
  }
}

async function closeOrReopen(talk) {
  const closed = talk.status === 'closed';
  const changed = await attempt(closed ? 'reopen the talk' : 'close the talk', () =>
    closed ? api.reopenTalk(talk.id) : api.closeTalk(talk.id));
  if (changed) mergeTalk(changed);
}

on('participants', draw);
on('presence', draw);
on('reads', draw);
on('talk', draw);
on('left', () => {
  panel = null;
});
