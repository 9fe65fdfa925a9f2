// Presence dots: whether each participant of the open talk has the app (or
// any WebSocket) open. Read once over HTTP when the talk opens (one request
// for the whole list), then kept current by `presence` frames, which the
// socket asks for with one `presence_subscribe` of the talk's participants.

import * as api from './api.js';
import { h, shortTime } from './dom.js';
import { emit, state } from './state.js';

/** The most agents one `presence_subscribe` may name. */
const WATCH_MAX = 200;

/** Sends a client frame on the live connection (set once it exists). */
let send = () => {};

/** The agents watched on the socket now. */
let watched = [];

/** Sets how frames go to the server. */
export function useSender(fn) {
  send = fn;
}

/** Reads the presence of the open talk's participants, then follows them live. */
export async function loadPresence(talkId) {
  const presences = await api.allPages((token) => api.talkPresence(talkId, token));
  if (talkId !== state.openTalkId) return;
  state.presence = new Map(presences.map((presence) => [presence.agent_id, presence]));
  emit('presence');
  watched = presences.map((presence) => presence.agent_id).slice(0, WATCH_MAX);
  watchAgain();
}

/** Asks the socket for the watched agents' presence (again, after a reconnect). */
export function watchAgain() {
  if (watched.length) send({ type: 'presence_subscribe', agent_ids: watched });
}

/** A `presence` frame of the server. */
export function handlePresence(frame) {
  state.presence.set(frame.agent_id, frame);
  emit('presence');
}

/** The dot before an agent's name: online, offline (with when it was last seen), or not known. */
export function presenceDot(agentId) {
  const presence = state.presence.get(agentId);
  const status = presence ? presence.status : 'unknown';
  const label = status === 'online'
    ? 'online'
    : presence && presence.tm_last_seen ? `offline, last seen ${shortTime(presence.tm_last_seen)}` : 'offline';
  return h('span', { class: `presence ${status}`, role: 'img', 'aria-label': label, title: label });
}
