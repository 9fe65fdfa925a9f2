// Read receipts: each participant's read marker (GET /talks/{id}/reads, then
// `talk_read` events) shown as "Seen by" under the message it points at in
// the main view (a reply's marker under its thread's first message).

import * as api from './api.js';
import { emit, state } from './state.js';

/** Loads the open talk's read markers. */
export async function loadReads(talkId) {
  const answer = await api.listReads(talkId);
  if (talkId !== state.openTalkId) return;
  state.reads = new Map(answer.result.map((read) => [read.agent_id, read]));
  emit('reads');
}

/** The main view's message a read marker stands at, if it is on screen. */
function markedMessageId(read) {
  const marked = read.last_read_message_id && state.messages.get(read.last_read_message_id);
  if (!marked) return null;
  return marked.parent_id ?? marked.id;
}

/** The agents whose read marker stands at `message`, in join order. */
export function seenBy(message) {
  return [...state.reads.values()].filter((read) => markedMessageId(read) === message.id).map((read) => read.agent_id);
}

/** The ids of the messages that carry a receipt, to redraw when markers move. */
export function markedIds() {
  return new Set([...state.reads.values()].map(markedMessageId).filter(Boolean));
}
