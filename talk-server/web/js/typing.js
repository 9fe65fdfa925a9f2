// Typing: who else is typing, shown above each composer (the main view's
// and a thread's), and my own typing, told to the server while I write.
//
// The server sends `typing` frames (no `seq`): `started` once, `stopped`
// when the typist stops, sends, leaves, or 6 seconds pass without a
// renewal. So I renew every few seconds while I write, and what is shown
// needs no timer of its own.

import { fill, h } from './dom.js';
import { agentName, state } from './state.js';

/** How often my typing is renewed while I keep writing (the server forgets it after 6 s). */
const RENEW_MS = 3000;

/** Sends a client frame on the live connection (set once it exists). */
let send = () => {};

/** Who types where: `talk|thread` → the typists' agent ids. */
const typists = new Map();

/** The indicators on screen, each with the `talk|thread` it shows. */
const indicators = new Set();

const keyOf = (talkId, parentId) => `${talkId}|${parentId ?? ''}`;

/** Sets how frames go to the server. */
export function useSender(fn) {
  send = fn;
}

/** A `typing` frame of the server. */
export function handleTyping(frame) {
  const key = keyOf(frame.talk_id, frame.parent_id);
  const agents = typists.get(key) ?? new Set();
  if (frame.state === 'started') agents.add(frame.agent_id);
  else agents.delete(frame.agent_id);
  if (agents.size) typists.set(key, agents);
  else typists.delete(key);
  drawAll();
}

/** Forgets every typist: after a reconnect the server tells anew. */
export function forgetTypists() {
  typists.clear();
  drawAll();
}

/** The line "X is typing…" for a talk (and a thread), kept current. */
export function typingIndicator(talkId, parentId = null) {
  const element = h('p', { class: 'typing', 'aria-live': 'polite' });
  const indicator = { element, key: keyOf(talkId, parentId) };
  indicators.add(indicator);
  draw(indicator);
  return element;
}

function drawAll() {
  for (const indicator of indicators) {
    // Those no longer on screen go.
    if (!indicator.element.isConnected && indicator.drawn) indicators.delete(indicator);
    else draw(indicator);
  }
}

function draw(indicator) {
  indicator.drawn = true;
  const names = [...(typists.get(indicator.key) ?? [])].filter((agent) => agent !== state.me).map(agentName);
  let text = '';
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names.length} people are typing…`;
  fill(indicator.element, text);
}

/**
 * My typing in one composer: `changed(text)` after each edit of the text,
 * `stopped()` when the text was sent or the composer goes.
 */
export function myTyping(talkId, parentId = null) {
  let renewedAt = 0;
  const frame = (type) => ({ type, talk_id: talkId, parent_id: parentId });
  return {
    changed(text) {
      if (text.trim() === '') return this.stopped();
      const now = Date.now();
      if (now - renewedAt >= RENEW_MS) {
        renewedAt = now;
        send(frame('typing'));
      }
    },
    stopped() {
      if (renewedAt === 0) return;
      renewedAt = 0;
      send(frame('typing_stop'));
    },
    /** The message went: the server stops my typing there itself. */
    sent() {
      renewedAt = 0;
    },
  };
}
