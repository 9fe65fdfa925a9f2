// What the page knows, in one place, and who to tell when it changes.
// Views subscribe to topics with `on` and redraw what they show; nothing
// here talks to the server.

export const state = {
  /** The signed-in agent's id. */
  me: null,
  /** The agents the demo server knows (its sign-in list), for the forms. */
  agents: [],
  /** Talks where I am active, by id (Talk objects with my counts). */
  talks: new Map(),
  /** Their ids in the API's order (newest first). */
  talkOrder: [],
  /** The open talk's id, or null. */
  openTalkId: null,
  /** Messages of the open talk that are on screen (main view and thread), by id. */
  messages: new Map(),
  /** The main view's top-level message ids, oldest first. */
  mainIds: [],
  /** The page token of the next older page of the main view ("" when none). */
  olderPage: '',
  /** The open thread: its parent's id and its replies' ids, oldest first. */
  thread: null,
  /** The open talk's active participants, in join order. */
  participants: [],
  /** The open talk's read markers, by agent id. */
  reads: new Map(),
  /** The presence of the open talk's participants, by agent id. */
  presence: new Map(),
};

const listeners = new Map();

/** Calls `fn(payload)` on every `emit(topic, payload)`. */
export function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(fn);
}

export function emit(topic, payload) {
  for (const fn of listeners.get(topic) || []) fn(payload);
}

/** The talks in order, as the list shows them. */
export function orderedTalks() {
  return state.talkOrder.map((id) => state.talks.get(id)).filter(Boolean);
}

/** Replaces the whole talk list (an API page, newest first). */
export function setTalks(talks) {
  state.talks = new Map(talks.map((talk) => [talk.id, talk]));
  state.talkOrder = talks.map((talk) => talk.id);
  emit('talks');
}

/**
 * Merges a Talk into the list: the counts it lacks (WebSocket payloads have
 * none) are kept. A talk not listed yet goes first (the newest created) when
 * `insert` is set, else it is ignored.
 */
export function mergeTalk(talk, { insert = false } = {}) {
  const known = state.talks.get(talk.id);
  if (!known && !insert) return;
  const merged = { ...known, ...talk };
  for (const count of ['unread_count', 'mention_count']) {
    if (talk[count] === undefined || talk[count] === null) merged[count] = known ? known[count] : 0;
  }
  state.talks.set(talk.id, merged);
  if (!known) state.talkOrder.unshift(talk.id);
  emit('talks');
  if (talk.id === state.openTalkId) emit('talk', merged);
}

/** Sets my counts of one talk (from a Talk or a ReadState). */
export function setCounts(talkId, unread, mentions) {
  const talk = state.talks.get(talkId);
  if (!talk || unread === null || unread === undefined) return;
  talk.unread_count = unread;
  talk.mention_count = mentions;
  emit('talks');
}

export function dropTalk(talkId) {
  if (!state.talks.delete(talkId)) return;
  state.talkOrder = state.talkOrder.filter((id) => id !== talkId);
  emit('talks');
}

/** Stores a message of the open talk and redraws it where it is shown. */
export function putMessage(message) {
  state.messages.set(message.id, message);
  emit('message', message);
}

/** The agent's display name: its id (agents have no other name in the API). */
export function agentName(agentId) {
  return agentId === state.me ? `${agentId} (you)` : agentId;
}

/** A talk's title as the list shows it. */
export function talkTitle(talk) {
  if (talk.name) return talk.name;
  return talk.type === 'direct' ? 'Direct talk' : 'Untitled talk';
}
