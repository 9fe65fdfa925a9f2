// The app's entry point: sign-in, the page's shell, the live connection,
// and the routes of the address bar's `#/…` part.

import { useToken } from './api.js';
import { fill, h } from './dom.js';
import { attempt, showError } from './errors.js';
import { handleEvent, loadTalks } from './events.js';
import { findRegions, regions, showNothing, showPage } from './layout.js';
import { Live } from './live.js';
import { showDirectory } from './directory.js';
import { showNewTalk } from './new_talk.js';
import { showSearch } from './search.js';
import { forgetSession, keptSession, loadAgents, showSignIn } from './signin.js';
import { state } from './state.js';
import { mountTalkList } from './talk_list.js';
import { closeTalk, openTalk } from './talk_view.js';
import { forgetTypists, handleTyping, useSender as sendTyping } from './typing.js';
import { handlePresence, useSender as sendPresence, watchAgain } from './presence.js';

/** How long the first load waits for the live connection before reading anyway. */
const SUBSCRIBE_PATIENCE_MS = 3000;

/** The live connection. */
let live = null;

async function boot() {
  findRegions();
  const agents = await attempt('load the list of agents', loadAgents);
  if (!agents) return;
  const session = keptSession(agents);
  if (session) start(session, agents);
  else showSignIn(agents, (chosen) => start(chosen, agents));
}

async function start(session, agents) {
  state.me = session.agent_id;
  state.agents = agents.map((agent) => agent.agent_id);
  useToken(session.token);
  buildShell();

  let subscribed;
  const ready = new Promise((resolve) => { subscribed = resolve; });
  live = new Live(session.token, {
    onSubscribed: () => subscribed(),
    onEvent: handleEvent,
    onResync: () => reloadEverything(),
    onStatus: (status) => {
      showConnection(status);
      // A new socket: typing is told anew, presence is asked for again.
      if (status === 'reconnecting') forgetTypists();
      if (status === 'live') watchAgain();
    },
    onError: (frame) => showError('follow the talks live', { message: frame.message, code: frame.code, status: 0 }),
    // Frames without a seq: typing and presence.
    onSignal: (frame) => {
      if (frame.type === 'typing') handleTyping(frame);
      else if (frame.type === 'presence') handlePresence(frame);
    },
  });
  sendTyping((frame) => live.send(frame));
  sendPresence((frame) => live.send(frame));
  live.start();
  // Read after subscribing, so that no event falls between the two.
  await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_PATIENCE_MS))]);
  await attempt('load the talk list', loadTalks);
  window.addEventListener('hashchange', route);
  route();
}

function buildShell() {
  fill(document.getElementById('whoami'), 'Signed in as ', h('strong', {}, state.me));
  const signOut = document.getElementById('sign-out');
  signOut.hidden = false;
  signOut.addEventListener('click', () => {
    forgetSession();
    location.hash = '';
    location.reload();
  });
  const field = h('input', { id: 'search-q', name: 'q', type: 'search', placeholder: 'Search messages', autocomplete: 'off' });
  const search = h('form', { role: 'search', class: 'search' },
    h('label', { for: 'search-q', class: 'visually-hidden' }, 'Search messages'), field);
  search.addEventListener('submit', (event) => {
    event.preventDefault();
    const q = field.value.trim();
    if (q) location.hash = `#/search?${new URLSearchParams({ q })}`;
  });
  const list = h('ul', { class: 'talk-list', 'aria-label': 'Your talks' });
  fill(regions.sidebar,
    search,
    h('div', { class: 'row sidebar-actions' },
      h('a', { href: '#/new', class: 'button' }, 'New talk'),
      h('a', { href: '#/directory', class: 'button secondary' }, 'Public talks')),
    h('h2', { class: 'list-title' }, 'Talks'),
    list);
  regions.sidebar.hidden = false;
  mountTalkList(list);
}

function showConnection(status) {
  const labels = { connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…' };
  const element = document.getElementById('connection');
  element.dataset.status = status;
  fill(element, labels[status]);
}

/** After `resync_required`: everything shown is read again over HTTP. */
async function reloadEverything() {
  await attempt('reload the talk list', loadTalks);
  route();
}

/** Shows the page the address names: `#/talk/ID[/message/ID]`, `#/new`, `#/directory`, `#/search?q=`. */
function route() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, query] = hash.split('?');
  const parts = path.split('/').filter(Boolean);
  if (parts[0] !== 'talk') closeTalk();
  if (parts[0] === 'talk' && parts[1]) {
    if (!state.talks.has(parts[1])) {
      showPage(h('p', { class: 'page notice' }, 'That talk is not one of yours (any more).'));
      return;
    }
    openTalk(parts[1], { focusMessageId: parts[2] === 'message' ? parts[3] : null });
  } else if (parts[0] === 'new') {
    showNewTalk();
  } else if (parts[0] === 'directory') {
    showDirectory();
  } else if (parts[0] === 'search') {
    showSearch(new URLSearchParams(query).get('q') || '');
  } else {
    showNothing(h('section', { class: 'page welcome' },
      h('h2', {}, 'Welcome'),
      h('p', {}, 'Pick a talk on the left, start a new one, or find a public talk to join.')));
  }
}

boot();
