// Signing in: the demo server lists its agents with their tokens
// (GET /demo/agents, served by the demo server only); picking one keeps its
// token for this browser tab.

import { getDemo } from './api.js';
import { h } from './dom.js';
import { showPage } from './layout.js';

const KEY = 'talk-session';

/** The demo server's agents: `[{agent_id, token}]`. */
export function loadAgents() {
  return getDemo('/demo/agents');
}

/** The session kept by this tab, if it is still one of `agents`. */
export function keptSession(agents) {
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    kept = null;
  }
  return kept && agents.some((a) => a.agent_id === kept.agent_id && a.token === kept.token) ? kept : null;
}

export function forgetSession() {
  sessionStorage.removeItem(KEY);
}

/** Shows the list of agents; `onChosen(session)` once one is picked. */
export function showSignIn(agents, onChosen) {
  const choose = (agent) => {
    sessionStorage.setItem(KEY, JSON.stringify(agent));
    onChosen(agent);
  };
  showPage(h('section', { class: 'page sign-in', 'aria-labelledby': 'sign-in-title' },
    h('h2', { id: 'sign-in-title' }, 'Sign in'),
    h('p', {}, 'Pick an agent of this demo server. Open a second window as another agent to chat with yourself.'),
    h('ul', { class: 'agents' }, agents.map((agent) => h('li', {},
      h('button', { type: 'button', dataset: { agentId: agent.agent_id }, onclick: () => choose(agent) }, agent.agent_id))))));
  document.querySelector('.sign-in button')?.focus();
}
