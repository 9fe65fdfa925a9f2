// The public Talk API over HTTP (API.md), with the signed-in agent's token
// as a bearer token. Every failure becomes an ApiError with a readable
// message: the API's own error message when it sent one.

let token = null;

/** Sets the token every later request carries. */
export function useToken(value) {
  token = value;
}

/** An answer that was not a success, or a server that could not be reached. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** `method path` (under `/v1.0`) with an optional JSON body: the parsed answer. */
export async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  const init = { method, headers };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return request(`/v1.0${path}`, init);
}

/** `GET url` of the demo server itself, outside the API (the sign-in list). */
export function getDemo(url) {
  return request(url, {});
}

async function request(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, 'unreachable', 'The server cannot be reached: it may be restarting. Try again in a moment.');
  }
  const text = await response.text();
  let json = null;
  try {
    json = text ? JSON.parse(text) : null;
  } catch {
    json = null;
  }
  if (!response.ok) {
    const error = json && json.error;
    const message = error && error.message ? error.message : `${response.status} ${response.statusText}`.trim();
    throw new ApiError(response.status, error ? error.code : `http_${response.status}`, message);
  }
  return json;
}

const id = encodeURIComponent;

/**
 * Every item of a list, page after page: `fetchPage(pageToken)` answers one
 * page (`undefined` for the first); the list ends at an empty
 * `next_page_token`.
 */
export async function allPages(fetchPage) {
  const items = [];
  let token;
  do {
    const page = await fetchPage(token);
    items.push(...page.result);
    token = page.next_page_token || undefined;
  } while (token);
  return items;
}

/** Appends the defined entries of `params` as a query string. */
function query(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== '') search.set(name, value);
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}

// Talks
export const listTalks = (pageToken) => call('GET', query('/talks', { page_size: 100, page_token: pageToken }));
export const getTalk = (talkId) => call('GET', `/talks/${id(talkId)}`);
export const createTalk = (body) => call('POST', '/talks', body);
export const closeTalk = (talkId) => call('POST', `/talks/${id(talkId)}/close`);
export const reopenTalk = (talkId) => call('POST', `/talks/${id(talkId)}/reopen`);
export const listPublicTalks = (q, pageToken) => call('GET', query('/talks/public', { q, page_token: pageToken }));
export const joinTalk = (talkId) => call('POST', `/talks/${id(talkId)}/join`);

// Participants
export const listParticipants = (talkId, pageToken) =>
  call('GET', query(`/talks/${id(talkId)}/participants`, { page_size: 100, page_token: pageToken }));
export const addParticipant = (talkId, agentId) => call('POST', `/talks/${id(talkId)}/participants`, { agent_id: agentId });
export const removeParticipant = (talkId, participantId) =>
  call('DELETE', `/talks/${id(talkId)}/participants/${id(participantId)}`);

// Messages, threads, reactions
export const listMessages = (talkId, pageToken) =>
  call('GET', query(`/talks/${id(talkId)}/messages`, { page_size: 50, page_token: pageToken }));
export const listReplies = (messageId, pageToken) =>
  call('GET', query(`/messages/${id(messageId)}/replies`, { page_size: 100, page_token: pageToken }));
export const getMessage = (messageId) => call('GET', `/messages/${id(messageId)}`);
export const sendMessage = (talkId, body) => call('POST', `/talks/${id(talkId)}/messages`, body);
export const editMessage = (messageId, body) => call('PATCH', `/messages/${id(messageId)}`, body);
export const deleteMessage = (messageId) => call('DELETE', `/messages/${id(messageId)}`);
export const react = (messageId, emoji) => call('POST', `/messages/${id(messageId)}/reactions`, { emoji });
export const unreact = (messageId, emoji) => call('DELETE', `/messages/${id(messageId)}/reactions/${id(emoji)}`);

// Read state
export const markRead = (talkId) => call('POST', `/talks/${id(talkId)}/read`, {});
export const listReads = (talkId) => call('GET', query(`/talks/${id(talkId)}/reads`, { page_size: 100 }));

// Presence
export const talkPresence = (talkId, pageToken) =>
  call('GET', query(`/talks/${id(talkId)}/presence`, { page_size: 100, page_token: pageToken }));

// Search
export const searchMessages = (q, pageToken) => call('GET', query('/search/messages', { q, page_token: pageToken }));
