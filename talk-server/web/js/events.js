// Live events (WebSocket frames with a `seq`) applied to what the page knows.
// Counts are never computed here: which messages count as unread or as
// mentions is the server's rule, so a talk's counts are read back from it.

import * as api from './api.js';
import { debouncer } from './dom.js';
import { attempt } from './errors.js';
import { dropTalk, emit, mergeTalk, putMessage, setCounts, setTalks, state } from './state.js';

const soon = debouncer(300);

/** Loads the talk list (my active talks with my counts) in the API's order. */
export async function loadTalks() {
  setTalks(await api.allPages(api.listTalks));
}

function reloadTalksSoon() {
  soon('talks', () => attempt('load the talk list', loadTalks));
}

/** Reads one talk's counts again, shortly (several events make one request). */
function refreshCountsSoon(talkId) {
  soon(`counts:${talkId}`, () =>
    attempt('update the unread count', async () => {
      const talk = await api.getTalk(talkId);
      setCounts(talk.id, talk.unread_count, talk.mention_count);
    }));
}

export function handleEvent(frame) {
  const { type, talk_id: talkId, data } = frame;
  const open = talkId === state.openTalkId;
  switch (type) {
    case 'talk_created':
      mergeTalk(data, { insert: true });
      break;
    case 'talk_updated':
    case 'talk_closed':
    case 'talk_reopened':
      mergeTalk(data);
      break;
    case 'participant_joined':
      if (data.agent_id === state.me && !state.talks.has(talkId)) reloadTalksSoon();
      if (open && !state.participants.some((p) => p.id === data.id)) {
        state.participants.push(data);
        emit('participants');
      }
      break;
    case 'participant_left':
      if (data.agent_id === state.me) {
        if (state.talks.has(talkId)) {
          dropTalk(talkId);
          if (open) emit('left', talkId);
        }
      } else if (open) {
        state.participants = state.participants.filter((p) => p.id !== data.id);
        state.reads.delete(data.agent_id);
        emit('participants');
        emit('reads');
      }
      break;
    case 'message_created':
      messageCreated(data, open);
      break;
    case 'message_updated':
    case 'message_deleted':
      if (open && state.messages.has(data.id)) putMessage(data);
      if (!open) refreshCountsSoon(talkId);
      break;
    case 'reaction_added':
    case 'reaction_removed':
      if (open) reactionChanged(type === 'reaction_added', data);
      break;
    case 'talk_read':
      if (open) {
        state.reads.set(data.agent_id, data);
        emit('reads');
      }
      if (data.agent_id === state.me && !open) refreshCountsSoon(talkId);
      break;
    default:
      break;
  }
}

function messageCreated(message, open) {
  if (!open) {
    if (message.agent_id !== state.me) refreshCountsSoon(message.talk_id);
    return;
  }
  putMessage(message);
  if (message.parent_id === null) {
    // My own message may be on screen already (the answer to the send).
    if (!state.mainIds.includes(message.id)) {
      state.mainIds.push(message.id);
      emit('main-added', message);
    }
  } else {
    const parent = state.messages.get(message.parent_id);
    // The event is new (the socket hands on each seq once): one more reply.
    if (parent) putMessage({ ...parent, reply_count: parent.reply_count + 1 });
    if (state.thread && state.thread.parentId === message.parent_id && !state.thread.ids.includes(message.id)) {
      state.thread.ids.push(message.id);
      emit('thread-added', message);
    }
  }
  if (message.agent_id !== state.me && message.type === 'normal') emit('unseen', message.talk_id);
}

/** A reaction event: `{message_id, emoji, agent_id}` (the emoji in its one stored form). */
function reactionChanged(added, { message_id: messageId, emoji, agent_id: agentId }) {
  const message = state.messages.get(messageId);
  if (!message) return;
  const reactions = message.reactions.map((r) => ({ ...r, agent_ids: [...r.agent_ids] }));
  let entry = reactions.find((r) => r.emoji === emoji);
  // The agent lists hold the first 100 reactors: beyond them, trust the count alone.
  const listsAll = (r) => r.agent_ids.length === r.count;
  if (added) {
    if (!entry) {
      entry = { emoji, count: 0, agent_ids: [] };
      reactions.push(entry);
    }
    if (entry.agent_ids.includes(agentId)) return;
    entry.count += 1;
    if (entry.agent_ids.length < 100) entry.agent_ids.push(agentId);
  } else {
    if (!entry || (listsAll(entry) && !entry.agent_ids.includes(agentId))) return;
    entry.count -= 1;
    entry.agent_ids = entry.agent_ids.filter((id) => id !== agentId);
  }
  putMessage({ ...message, reactions: reactions.filter((r) => r.count > 0) });
}
