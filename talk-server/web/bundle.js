// js/api.js
var token = null;
function useToken(value) {
  token = value;
}
var ApiError = class extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
};
async function call(method, path, body) {
  const headers = { Authorization: `Bearer ${token}` };
  const init = { method, headers };
  if (body !== void 0) {
    headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return request(`/v1.0${path}`, init);
}
function getDemo(url) {
  return request(url, {});
}
async function request(url, init) {
  let response;
  try {
    response = await fetch(url, init);
  } catch {
    throw new ApiError(0, "unreachable", "The server cannot be reached: it may be restarting. Try again in a moment.");
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
var id = encodeURIComponent;
async function allPages(fetchPage) {
  const items = [];
  let token2;
  do {
    const page = await fetchPage(token2);
    items.push(...page.result);
    token2 = page.next_page_token || void 0;
  } while (token2);
  return items;
}
function query(path, params) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(params)) {
    if (value !== void 0 && value !== null && value !== "") search.set(name, value);
  }
  const text = search.toString();
  return text ? `${path}?${text}` : path;
}
var listTalks = (pageToken) => call("GET", query("/talks", { page_size: 100, page_token: pageToken }));
var getTalk = (talkId) => call("GET", `/talks/${id(talkId)}`);
var createTalk = (body) => call("POST", "/talks", body);
var closeTalk = (talkId) => call("POST", `/talks/${id(talkId)}/close`);
var reopenTalk = (talkId) => call("POST", `/talks/${id(talkId)}/reopen`);
var listPublicTalks = (q, pageToken) => call("GET", query("/talks/public", { q, page_token: pageToken }));
var joinTalk = (talkId) => call("POST", `/talks/${id(talkId)}/join`);
var listParticipants = (talkId, pageToken) => call("GET", query(`/talks/${id(talkId)}/participants`, { page_size: 100, page_token: pageToken }));
var addParticipant = (talkId, agentId) => call("POST", `/talks/${id(talkId)}/participants`, { agent_id: agentId });
var removeParticipant = (talkId, participantId) => call("DELETE", `/talks/${id(talkId)}/participants/${id(participantId)}`);
var listMessages = (talkId, pageToken) => call("GET", query(`/talks/${id(talkId)}/messages`, { page_size: 50, page_token: pageToken }));
var listReplies = (messageId, pageToken) => call("GET", query(`/messages/${id(messageId)}/replies`, { page_size: 100, page_token: pageToken }));
var getMessage = (messageId) => call("GET", `/messages/${id(messageId)}`);
var sendMessage = (talkId, body) => call("POST", `/talks/${id(talkId)}/messages`, body);
var editMessage = (messageId, body) => call("PATCH", `/messages/${id(messageId)}`, body);
var deleteMessage = (messageId) => call("DELETE", `/messages/${id(messageId)}`);
var react = (messageId, emoji) => call("POST", `/messages/${id(messageId)}/reactions`, { emoji });
var unreact = (messageId, emoji) => call("DELETE", `/messages/${id(messageId)}/reactions/${id(emoji)}`);
var markRead = (talkId) => call("POST", `/talks/${id(talkId)}/read`, {});
var listReads = (talkId) => call("GET", query(`/talks/${id(talkId)}/reads`, { page_size: 100 }));
var talkPresence = (talkId, pageToken) => call("GET", query(`/talks/${id(talkId)}/presence`, { page_size: 100, page_token: pageToken }));
var searchMessages = (q, pageToken) => call("GET", query("/search/messages", { q, page_token: pageToken }));

// js/dom.js
function h(tag, attrs = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === void 0 || value === null || value === false) continue;
    if (name === "class") element.className = value;
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name in element && !name.includes("-") && name !== "list" && name !== "form") element[name] = value;
    else element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, children);
  return element;
}
function append(element, children) {
  for (const child of children) {
    if (child === void 0 || child === null || child === false) continue;
    if (Array.isArray(child)) append(element, child);
    else element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}
function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}
function shortTime(iso) {
  if (!iso) return "";
  const when = new Date(iso);
  const clock = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  if (when.toDateString() === (/* @__PURE__ */ new Date()).toDateString()) return clock;
  return `${when.toLocaleDateString([], { day: "numeric", month: "short" })} ${clock}`;
}
function timeElement(iso) {
  return h("time", { dateTime: iso, title: new Date(iso).toLocaleString() }, shortTime(iso));
}
function debouncer(delay) {
  const timers = /* @__PURE__ */ new Map();
  return (key, fn) => {
    clearTimeout(timers.get(key));
    timers.set(key, setTimeout(() => {
      timers.delete(key);
      fn();
    }, delay));
  };
}

// js/errors.js
var SHOWN_AT_MOST = 4;
function showError(doing, error) {
  const region = document.getElementById("errors");
  const why = error && error.message ? error.message : String(error);
  const code = error && error.code && error.status ? ` (${error.code})` : "";
  const line = h(
    "div",
    { class: "error", dataset: { code: error && error.code || "" } },
    h("span", {}, `Could not ${doing}: ${why}${code}`),
    h("button", { type: "button", class: "quiet", "aria-label": "Dismiss", onclick: () => line.remove() }, "\xD7")
  );
  region.append(line);
  while (region.children.length > SHOWN_AT_MOST) region.firstElementChild.remove();
}
async function attempt(doing, fn) {
  try {
    return await fn();
  } catch (error) {
    showError(doing, error);
    return void 0;
  }
}

// js/state.js
var state = {
  /** The signed-in agent's id. */
  me: null,
  /** The agents the demo server knows (its sign-in list), for the forms. */
  agents: [],
  /** Talks where I am active, by id (Talk objects with my counts). */
  talks: /* @__PURE__ */ new Map(),
  /** Their ids in the API's order (newest first). */
  talkOrder: [],
  /** The open talk's id, or null. */
  openTalkId: null,
  /** Messages of the open talk that are on screen (main view and thread), by id. */
  messages: /* @__PURE__ */ new Map(),
  /** The main view's top-level message ids, oldest first. */
  mainIds: [],
  /** The page token of the next older page of the main view ("" when none). */
  olderPage: "",
  /** The open thread: its parent's id and its replies' ids, oldest first. */
  thread: null,
  /** The open talk's active participants, in join order. */
  participants: [],
  /** The open talk's read markers, by agent id. */
  reads: /* @__PURE__ */ new Map(),
  /** The presence of the open talk's participants, by agent id. */
  presence: /* @__PURE__ */ new Map()
};
var listeners = /* @__PURE__ */ new Map();
function on(topic, fn) {
  if (!listeners.has(topic)) listeners.set(topic, []);
  listeners.get(topic).push(fn);
}
function emit(topic, payload) {
  for (const fn of listeners.get(topic) || []) fn(payload);
}
function orderedTalks() {
  return state.talkOrder.map((id2) => state.talks.get(id2)).filter(Boolean);
}
function setTalks(talks) {
  state.talks = new Map(talks.map((talk) => [talk.id, talk]));
  state.talkOrder = talks.map((talk) => talk.id);
  emit("talks");
}
function mergeTalk(talk, { insert = false } = {}) {
  const known = state.talks.get(talk.id);
  if (!known && !insert) return;
  const merged = { ...known, ...talk };
  for (const count of ["unread_count", "mention_count"]) {
    if (talk[count] === void 0 || talk[count] === null) merged[count] = known ? known[count] : 0;
  }
  state.talks.set(talk.id, merged);
  if (!known) state.talkOrder.unshift(talk.id);
  emit("talks");
  if (talk.id === state.openTalkId) emit("talk", merged);
}
function setCounts(talkId, unread, mentions) {
  const talk = state.talks.get(talkId);
  if (!talk || unread === null || unread === void 0) return;
  talk.unread_count = unread;
  talk.mention_count = mentions;
  emit("talks");
}
function dropTalk(talkId) {
  if (!state.talks.delete(talkId)) return;
  state.talkOrder = state.talkOrder.filter((id2) => id2 !== talkId);
  emit("talks");
}
function putMessage(message) {
  state.messages.set(message.id, message);
  emit("message", message);
}
function agentName(agentId) {
  return agentId === state.me ? `${agentId} (you)` : agentId;
}
function talkTitle(talk) {
  if (talk.name) return talk.name;
  return talk.type === "direct" ? "Direct talk" : "Untitled talk";
}

// js/events.js
var soon = debouncer(300);
async function loadTalks() {
  setTalks(await allPages(listTalks));
}
function reloadTalksSoon() {
  soon("talks", () => attempt("load the talk list", loadTalks));
}
function refreshCountsSoon(talkId) {
  soon(`counts:${talkId}`, () => attempt("update the unread count", async () => {
    const talk = await getTalk(talkId);
    setCounts(talk.id, talk.unread_count, talk.mention_count);
  }));
}
function handleEvent(frame) {
  const { type, talk_id: talkId, data } = frame;
  const open = talkId === state.openTalkId;
  switch (type) {
    case "talk_created":
      mergeTalk(data, { insert: true });
      break;
    case "talk_updated":
    case "talk_closed":
    case "talk_reopened":
      mergeTalk(data);
      break;
    case "participant_joined":
      if (data.agent_id === state.me && !state.talks.has(talkId)) reloadTalksSoon();
      if (open && !state.participants.some((p) => p.id === data.id)) {
        state.participants.push(data);
        emit("participants");
      }
      break;
    case "participant_left":
      if (data.agent_id === state.me) {
        if (state.talks.has(talkId)) {
          dropTalk(talkId);
          if (open) emit("left", talkId);
        }
      } else if (open) {
        state.participants = state.participants.filter((p) => p.id !== data.id);
        state.reads.delete(data.agent_id);
        emit("participants");
        emit("reads");
      }
      break;
    case "message_created":
      messageCreated(data, open);
      break;
    case "message_updated":
    case "message_deleted":
      if (open && state.messages.has(data.id)) putMessage(data);
      if (!open) refreshCountsSoon(talkId);
      break;
    case "reaction_added":
    case "reaction_removed":
      if (open) reactionChanged(type === "reaction_added", data);
      break;
    case "talk_read":
      if (open) {
        state.reads.set(data.agent_id, data);
        emit("reads");
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
    if (!state.mainIds.includes(message.id)) {
      state.mainIds.push(message.id);
      emit("main-added", message);
    }
  } else {
    const parent = state.messages.get(message.parent_id);
    if (parent) putMessage({ ...parent, reply_count: parent.reply_count + 1 });
    if (state.thread && state.thread.parentId === message.parent_id && !state.thread.ids.includes(message.id)) {
      state.thread.ids.push(message.id);
      emit("thread-added", message);
    }
  }
  if (message.agent_id !== state.me && message.type === "normal") emit("unseen", message.talk_id);
}
function reactionChanged(added, { message_id: messageId, emoji, agent_id: agentId }) {
  const message = state.messages.get(messageId);
  if (!message) return;
  const reactions = message.reactions.map((r) => ({ ...r, agent_ids: [...r.agent_ids] }));
  let entry = reactions.find((r) => r.emoji === emoji);
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
    if (!entry || listsAll(entry) && !entry.agent_ids.includes(agentId)) return;
    entry.count -= 1;
    entry.agent_ids = entry.agent_ids.filter((id2) => id2 !== agentId);
  }
  putMessage({ ...message, reactions: reactions.filter((r) => r.count > 0) });
}

// js/layout.js
var regions = { sidebar: null, main: null, aside: null };
function findRegions() {
  regions.sidebar = document.getElementById("sidebar");
  regions.main = document.getElementById("main");
  regions.aside = document.getElementById("aside");
}
function showPage(...nodes) {
  closeAside();
  fill(regions.main, ...nodes);
  document.body.classList.add("page-open");
}
function showNothing(...nodes) {
  closeAside();
  fill(regions.main, ...nodes);
  document.body.classList.remove("page-open");
}
function showAside(panel3, name) {
  fill(regions.aside, panel3);
  regions.aside.hidden = false;
  regions.aside.dataset.panel = name;
  document.body.classList.add("aside-open");
}
function closeAside() {
  if (!regions.aside) return;
  regions.aside.replaceChildren();
  regions.aside.hidden = true;
  delete regions.aside.dataset.panel;
  document.body.classList.remove("aside-open");
}
function asideName() {
  return regions.aside && !regions.aside.hidden ? regions.aside.dataset.panel : null;
}
function announce(text) {
  const announcer = document.getElementById("announcer");
  announcer.textContent = "";
  announcer.textContent = text;
}

// js/live.js
var FIRST_DELAY_MS = 250;
var LONGEST_DELAY_MS = 1e4;
var Live = class {
  /**
   * handlers: onEvent(frame), onSubscribed(), onResync(), onSignal(frame),
   * onStatus("connecting" | "live" | "reconnecting"), onError(frame).
   */
  constructor(token2, handlers) {
    this.token = token2;
    this.handlers = handlers;
    this.lastSeq = null;
    this.failures = 0;
    this.socket = null;
    this.stopped = false;
  }
  start() {
    this.handlers.onStatus("connecting");
    this.open();
  }
  /** Sends a client frame if the socket is open (for panels: typing, presence). */
  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(frame));
  }
  stop() {
    this.stopped = true;
    if (this.socket) this.socket.close();
  }
  open() {
    const scheme = location.protocol === "https:" ? "wss:" : "ws:";
    const socket = new WebSocket(`${scheme}//${location.host}/v1.0/ws?token=${encodeURIComponent(this.token)}`);
    this.socket = socket;
    socket.addEventListener("open", () => {
      const subscribe = { type: "subscribe", talk_id: "*" };
      if (this.lastSeq !== null) subscribe.since = this.lastSeq;
      socket.send(JSON.stringify(subscribe));
    });
    socket.addEventListener("message", (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener("close", () => {
      if (this.socket !== socket || this.stopped) return;
      this.handlers.onStatus("reconnecting");
      const delay = Math.min(LONGEST_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures);
      this.failures += 1;
      setTimeout(() => this.open(), delay * (0.75 + Math.random() / 2));
    });
  }
  receive(frame) {
    switch (frame.type) {
      case "subscribed": {
        const first = this.lastSeq === null;
        this.lastSeq = Math.max(this.lastSeq ?? 0, frame.seq);
        this.failures = 0;
        this.handlers.onStatus("live");
        if (first) this.handlers.onSubscribed();
        return;
      }
      case "resync_required":
        this.lastSeq = frame.seq;
        this.handlers.onResync();
        return;
      case "error":
        this.handlers.onError(frame);
        return;
      default:
        if (typeof frame.seq !== "number") {
          this.handlers.onSignal(frame);
        } else if (this.lastSeq === null || frame.seq > this.lastSeq) {
          this.lastSeq = frame.seq;
          this.handlers.onEvent(frame);
        }
    }
  }
};

// js/directory.js
function showDirectory() {
  const field = h("input", { id: "directory-q", name: "q", type: "search", autocomplete: "off", placeholder: "words of the name" });
  const results = h("ul", { class: "results", "aria-label": "Public talks" });
  const more = h("button", { type: "button", class: "link", hidden: true }, "More");
  const form = h(
    "form",
    { class: "row", role: "search" },
    h("label", { for: "directory-q", class: "visually-hidden" }, "Find public talks"),
    field,
    h("button", { type: "submit" }, "Find")
  );
  let next = "";
  const load = async (append2) => {
    const page = await attempt("load the directory", () => listPublicTalks(field.value.trim(), append2 ? next : void 0));
    if (!page) return;
    next = page.next_page_token;
    more.hidden = !next;
    const items = page.result.map(item);
    if (append2) results.append(...items);
    else fill(results, items.length ? items : h("li", { class: "empty" }, "No public talk matches."));
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    load(false);
  });
  more.addEventListener("click", () => load(true));
  showPage(h(
    "section",
    { class: "page", "aria-labelledby": "directory-title" },
    h("h2", { id: "directory-title", tabIndex: -1 }, "Public talks"),
    form,
    results,
    more
  ));
  field.focus();
  load(false);
}
function item(talk) {
  const joined = state.talks.has(talk.id);
  const action = joined ? h("a", { href: `#/talk/${talk.id}`, class: "button secondary" }, "Open") : h("button", { type: "button", onclick: () => join(talk) }, "Join");
  return h(
    "li",
    { class: "result", dataset: { talkId: talk.id } },
    h(
      "div",
      { class: "grow" },
      h("strong", {}, talkTitle(talk)),
      h("span", { class: "hint" }, ` \xB7 ${talk.member_count} ${talk.member_count === 1 ? "member" : "members"}`),
      talk.detail ? h("p", { class: "hint" }, talk.detail) : null
    ),
    action
  );
}
async function join(talk) {
  const joined = await attempt(`join ${talkTitle(talk)}`, async () => {
    await joinTalk(talk.id);
    await loadTalks();
    return true;
  });
  if (joined) location.hash = `#/talk/${talk.id}`;
}

// js/new_talk.js
function showNewTalk() {
  const others = state.agents.filter((agent) => agent !== state.me);
  const kinds = [
    ["group", "Group", "a named talk with the agents you pick"],
    ["direct", "Direct", "just you and one other agent"],
    ["public", "Public", "listed in the directory: anyone may join"]
  ];
  const name = h("input", { id: "talk-name", name: "name", type: "text", maxLength: 200, autocomplete: "off" });
  const detail = h("input", { id: "talk-detail", name: "detail", type: "text", maxLength: 2e3, autocomplete: "off" });
  const form = h(
    "form",
    { class: "page-form", "aria-labelledby": "new-talk-title" },
    h("h2", { id: "new-talk-title", tabIndex: -1 }, "New talk"),
    h(
      "fieldset",
      {},
      h("legend", {}, "Kind"),
      kinds.map(([value, label, hint], index) => h(
        "label",
        { class: "choice" },
        h("input", { type: "radio", name: "type", value, checked: index === 0 }),
        ` ${label} `,
        h("span", { class: "hint" }, `(${hint})`)
      ))
    ),
    h("label", { for: "talk-name" }, "Name"),
    name,
    h("label", { for: "talk-detail" }, "Detail (optional)"),
    detail,
    h(
      "fieldset",
      {},
      h("legend", {}, "Participants"),
      others.length ? others.map((agent) => h(
        "label",
        { class: "choice" },
        h("input", { type: "checkbox", name: "participant", value: agent }),
        ` ${agent}`
      )) : h("p", {}, "No other agents known.")
    ),
    h("div", { class: "row" }, h("button", { type: "submit" }, "Create"), h("a", { href: "#/", class: "button quiet" }, "Cancel"))
  );
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const type = data.get("type");
    const participants = data.getAll("participant");
    const body = { type, name: name.value.trim(), participant_ids: participants };
    if (type === "direct" && !body.name && participants.length === 1) body.name = `${state.me} & ${participants[0]}`;
    if (detail.value.trim()) body.detail = detail.value.trim();
    const talk = await attempt(`create the ${type} talk`, () => createTalk(body));
    if (!talk) return;
    mergeTalk(talk, { insert: true });
    location.hash = `#/talk/${talk.id}`;
  });
  showPage(form);
  name.focus();
}

// js/search.js
async function showSearch(q) {
  const results = h("ol", { class: "results", "aria-label": "Search results" });
  const more = h("button", { type: "button", class: "link", hidden: true }, "More results");
  showPage(h(
    "section",
    { class: "page", "aria-labelledby": "search-title" },
    h("h2", { id: "search-title", tabIndex: -1 }, `Messages matching \u201C${q}\u201D`),
    results,
    more
  ));
  let next = "";
  const load = async (append2) => {
    const page = await attempt("search", () => searchMessages(q, append2 ? next : void 0));
    if (!page) return;
    next = page.next_page_token;
    more.hidden = !next;
    const items = page.result.map(resultItem);
    if (append2) results.append(...items);
    else fill(results, items.length ? items : h("li", { class: "empty" }, "No message matches."));
  };
  more.addEventListener("click", () => load(true));
  await load(false);
  document.getElementById("search-title")?.focus();
}
function resultItem({ message, highlight }) {
  const talk = state.talks.get(message.talk_id);
  return h(
    "li",
    { class: "result", dataset: { messageId: message.id } },
    h(
      "a",
      { href: `#/talk/${message.talk_id}/message/${message.id}`, class: "result-link" },
      h(
        "span",
        { class: "meta" },
        h("span", { class: "author" }, message.agent_id),
        " in ",
        h("span", { class: "talk-name" }, talk ? talkTitle(talk) : "a talk"),
        message.parent_id ? " (thread)" : "",
        " \xB7 ",
        timeElement(message.tm_create)
      ),
      h("span", { class: "highlight" }, highlightNodes(highlight))
    )
  );
}
function highlightNodes(highlight) {
  return highlight.split(/(<mark>|<\/mark>)/).reduce((state2, part) => {
    if (part === "<mark>") state2.marked = true;
    else if (part === "</mark>") state2.marked = false;
    else if (part) state2.nodes.push(state2.marked ? h("mark", {}, unescape(part)) : unescape(part));
    return state2;
  }, { marked: false, nodes: [] }).nodes;
}
var ENTITIES = { "&amp;": "&", "&lt;": "<", "&gt;": ">", "&quot;": '"', "&#39;": "'" };
function unescape(text) {
  return text.replace(/&(amp|lt|gt|quot|#39);/g, (entity) => ENTITIES[entity]);
}

// js/signin.js
var KEY = "talk-session";
function loadAgents() {
  return getDemo("/demo/agents");
}
function keptSession(agents) {
  let kept = null;
  try {
    kept = JSON.parse(sessionStorage.getItem(KEY));
  } catch {
    kept = null;
  }
  return kept && agents.some((a) => a.agent_id === kept.agent_id && a.token === kept.token) ? kept : null;
}
function forgetSession() {
  sessionStorage.removeItem(KEY);
}
function showSignIn(agents, onChosen) {
  const choose = (agent) => {
    sessionStorage.setItem(KEY, JSON.stringify(agent));
    onChosen(agent);
  };
  showPage(h(
    "section",
    { class: "page sign-in", "aria-labelledby": "sign-in-title" },
    h("h2", { id: "sign-in-title" }, "Sign in"),
    h("p", {}, "Pick an agent of this demo server. Open a second window as another agent to chat with yourself."),
    h("ul", { class: "agents" }, agents.map((agent) => h(
      "li",
      {},
      h("button", { type: "button", dataset: { agentId: agent.agent_id }, onclick: () => choose(agent) }, agent.agent_id)
    )))
  ));
  document.querySelector(".sign-in button")?.focus();
}

// js/talk_list.js
var list = null;
function mountTalkList(element) {
  list = element;
  draw();
}
function draw() {
  if (!list) return;
  const talks = orderedTalks();
  if (!talks.length) {
    fill(list, h("li", { class: "empty" }, "No talks yet: start one, or join a public one."));
    return;
  }
  fill(list, talks.map((talk) => {
    const unread = talk.unread_count || 0;
    const mentions = talk.mention_count || 0;
    const counts = [unread ? `${unread} unread` : null, mentions ? `${mentions} mentioning you` : null].filter(Boolean);
    return h(
      "li",
      {},
      h(
        "a",
        {
          href: `#/talk/${talk.id}`,
          class: `talk-link${unread ? " has-unread" : ""}`,
          "aria-current": talk.id === state.openTalkId ? "page" : null,
          "aria-label": [talkTitle(talk), talk.status === "closed" ? "closed" : null, ...counts].filter(Boolean).join(", "),
          dataset: { talkId: talk.id }
        },
        h("span", { class: "talk-kind", "aria-hidden": "true" }, { direct: "\u25CF", public: "#", group: "\u25C6" }[talk.type] || "\u25C6"),
        h("span", { class: "talk-name" }, talkTitle(talk)),
        talk.status === "closed" ? h("span", { class: "tag" }, "closed") : null,
        mentions ? h("span", { class: "badge mention", "aria-hidden": "true" }, `@${mentions}`) : null,
        unread ? h("span", { class: "badge unread", "aria-hidden": "true" }, String(unread)) : null
      )
    );
  }));
}
on("talks", draw);

// js/reactions.js
var COMMON = [
  ["\u{1F44D}", "thumbs up"],
  ["\u{1F44E}", "thumbs down"],
  ["\u2764\uFE0F", "heart"],
  ["\u{1F389}", "party popper"],
  ["\u{1F440}", "eyes"],
  ["\u2705", "check mark"]
];
function reactionBar(message) {
  const chips = message.reactions.map((reaction) => {
    const mine = reaction.agent_ids.includes(state.me);
    const others = reaction.count - reaction.agent_ids.length;
    const who = reaction.agent_ids.join(", ") + (others > 0 ? ` and ${others} more` : "");
    return h("button", {
      type: "button",
      class: "reaction",
      "aria-pressed": String(mine),
      title: who,
      "aria-label": `${reaction.emoji} ${reaction.count}: ${who}${mine ? " (press to take yours back)" : ""}`,
      dataset: { emoji: reaction.emoji },
      onclick: () => toggle(message, reaction.emoji, mine)
    }, h("span", { class: "emoji" }, reaction.emoji), h("span", { class: "count" }, String(reaction.count)));
  });
  return h("div", { class: "reactions" }, chips, picker(message));
}
function toggle(message, emoji, mine) {
  const doing = mine ? "take back the reaction" : "react";
  attempt(doing, async () => putMessage(await (mine ? unreact(message.id, emoji) : react(message.id, emoji))));
}
function add(message, emoji) {
  return attempt(`react with ${emoji}`, async () => {
    const reacted = await react(message.id, emoji);
    picked = null;
    putMessage(reacted);
  });
}
var picked = null;
function picker(message) {
  const open = picked !== null && picked.messageId === message.id;
  const field = h("input", {
    type: "text",
    name: "emoji",
    value: open ? picked.typed : "",
    placeholder: "thumbsup, :tada:, \u{1F680}",
    autocomplete: "off",
    "aria-label": "Emoji or shortcode"
  });
  const form = h("form", { class: "row" }, field, h("button", { type: "submit" }, "Add"));
  const details = h(
    "details",
    { class: open && picked.up ? "picker up" : "picker", open },
    h("summary", { "aria-label": "Add a reaction", title: "Add a reaction" }, "\u263A\uFE0E+"),
    h(
      "div",
      { class: "picker-body" },
      h("div", { class: "common" }, COMMON.map(([emoji, name]) => h("button", { type: "button", class: "quiet", "aria-label": `React with ${name}`, title: name, onclick: () => add(message, emoji) }, emoji))),
      form
    )
  );
  details.querySelector("summary").addEventListener("click", () => {
    picked = details.open ? null : { messageId: message.id, typed: field.value, up: details.getBoundingClientRect().top > window.innerHeight / 2 };
  });
  details.addEventListener("toggle", () => {
    if (!details.open) {
      if (picked && picked.messageId === message.id) picked = null;
      return;
    }
    for (const other of document.querySelectorAll("details.picker[open]")) if (other !== details) other.open = false;
    const up = details.getBoundingClientRect().top > window.innerHeight / 2;
    details.classList.toggle("up", up);
    picked = { messageId: message.id, typed: field.value, up };
  });
  field.addEventListener("input", () => {
    if (picked && picked.messageId === message.id) picked.typed = field.value;
  });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const emoji = field.value.trim();
    if (emoji) add(message, emoji);
  });
  details.addEventListener("keydown", (event) => {
    if (event.key === "Escape") {
      event.preventDefault();
      details.open = false;
      details.querySelector("summary").focus();
    }
  });
  return details;
}

// js/receipts.js
async function loadReads(talkId) {
  const answer = await listReads(talkId);
  if (talkId !== state.openTalkId) return;
  state.reads = new Map(answer.result.map((read) => [read.agent_id, read]));
  emit("reads");
}
function markedMessageId(read) {
  const marked = read.last_read_message_id && state.messages.get(read.last_read_message_id);
  if (!marked) return null;
  return marked.parent_id ?? marked.id;
}
function seenBy(message) {
  return [...state.reads.values()].filter((read) => markedMessageId(read) === message.id).map((read) => read.agent_id);
}
function markedIds() {
  return new Set([...state.reads.values()].map(markedMessageId).filter(Boolean));
}

// js/message.js
function messageElement(message, options = {}) {
  const dataset = { messageId: message.id };
  if (message.type === "system") {
    return h(
      "li",
      { class: "message system", dataset },
      h("span", { class: "system-text" }, message.text),
      " ",
      timeElement(message.tm_create)
    );
  }
  const deleted = message.tm_delete !== null;
  const mine = message.agent_id === state.me;
  const item2 = h(
    "li",
    { class: `message${mine ? " mine" : ""}${deleted ? " deleted" : ""}`, dataset },
    h(
      "div",
      { class: "meta" },
      h("span", { class: "author" }, agentName(message.agent_id)),
      " ",
      timeElement(message.tm_create),
      message.tm_edit && !deleted ? h("span", { class: "edited", title: new Date(message.tm_edit).toLocaleString() }, " (edited)") : null
    ),
    textOrForm(message, deleted),
    deleted ? null : mediaList(message.medias),
    deleted ? null : reactionBar(message),
    actions(message, mine && !deleted, options),
    options.inThread ? null : receipts(message)
  );
  return item2;
}
function textOrForm(message, deleted) {
  if (deleted) return h("p", { class: "text tombstone" }, "This message was deleted.");
  return drafts.has(message.id) ? editForm(message) : textElement(message);
}
function textElement(message) {
  const paragraph = h("p", { class: "text" });
  const mentioned = new Set(message.mentions || []);
  let shown = 0;
  for (const match of message.text.matchAll(MENTION)) {
    const agent = trimMention(match[1]);
    if (!mentioned.has(agent)) continue;
    paragraph.append(message.text.slice(shown, match.index));
    paragraph.append(h("span", { class: `mention${agent === state.me ? " me" : ""}` }, `@${agent}`));
    shown = match.index + 1 + agent.length;
  }
  paragraph.append(message.text.slice(shown));
  return paragraph;
}
var MENTION = /@([A-Za-z0-9._\-@:]+)/g;
function trimMention(name) {
  return name.replace(/[.:]+$/, "");
}
function mediaList(medias) {
  if (!medias.length) return null;
  return h(
    "ul",
    { class: "medias", "aria-label": "Attachments" },
    medias.map((media) => h(
      "li",
      {},
      h("a", { href: media.url, target: "_blank", rel: "noopener noreferrer" }, `\u{1F4CE} ${media.name}`),
      h("span", { class: "media-type" }, ` ${media.type}`)
    ))
  );
}
function actions(message, editable, options) {
  const buttons = [];
  if (!options.inThread && message.parent_id === null) {
    const replies = message.reply_count;
    const label = replies === 0 ? "Reply in thread" : `${replies} ${replies === 1 ? "reply" : "replies"}`;
    buttons.push(h("button", { type: "button", class: "link thread-button", onclick: () => options.onOpenThread(message) }, label));
  }
  if (editable) {
    if (!drafts.has(message.id)) buttons.push(h("button", { type: "button", class: "link edit-button", onclick: () => startEdit(message) }, "Edit"));
    buttons.push(deleteButton(message));
  }
  return buttons.length ? h("div", { class: "actions" }, buttons) : null;
}
var drafts = /* @__PURE__ */ new Map();
var armed = /* @__PURE__ */ new Set();
function latest(message) {
  return state.messages.get(message.id) || message;
}
function startEdit(message) {
  drafts.set(message.id, message.text);
  putMessage(latest(message));
  document.querySelector(`.message[data-message-id="${CSS.escape(message.id)}"] textarea.edit-text`)?.focus();
}
function stopEdit(message) {
  drafts.delete(message.id);
  putMessage(latest(message));
}
function editForm(message) {
  const input = h("textarea", { class: "edit-text", value: drafts.get(message.id), rows: 2, "aria-label": "Edit the message" });
  input.addEventListener("input", () => drafts.set(message.id, input.value));
  const form = h(
    "form",
    { class: "edit" },
    input,
    h(
      "div",
      { class: "row" },
      h("button", { type: "submit" }, "Save"),
      h("button", { type: "button", class: "quiet", onclick: () => stopEdit(message) }, "Cancel")
    )
  );
  form.addEventListener("submit", async (submitted) => {
    submitted.preventDefault();
    const text = drafts.get(message.id);
    const edited = await attempt("edit the message", () => editMessage(message.id, { text, mentions: mentionsIn(text) }));
    if (!edited) return;
    drafts.delete(message.id);
    putMessage(edited);
  });
  input.addEventListener("keydown", (key) => {
    if (key.key === "Escape") {
      key.preventDefault();
      stopEdit(message);
    } else if (key.key === "Enter" && !key.shiftKey) {
      key.preventDefault();
      form.requestSubmit();
    }
  });
  return form;
}
function deleteButton(message) {
  const asking = armed.has(message.id);
  return h("button", {
    type: "button",
    class: "link danger delete-button",
    onclick: () => {
      if (!asking) {
        armed.add(message.id);
        putMessage(latest(message));
        return;
      }
      armed.delete(message.id);
      attempt("delete the message", async () => putMessage(await deleteMessage(message.id)));
    }
  }, asking ? "Delete for everyone?" : "Delete");
}
var FOCUSABLE = ["textarea.edit-text", ".picker input[name=emoji]", ".picker summary", ".reaction", ".thread-button", ".edit-button", ".delete-button"];
function replaceMessage(old, fresh) {
  const active = old.contains(document.activeElement) ? document.activeElement : null;
  const selector = active && FOCUSABLE.find((candidate) => active.matches(candidate));
  const emoji = active && active.dataset.emoji;
  old.replaceWith(fresh);
  if (!selector) return;
  const same = emoji ? fresh.querySelector(`.reaction[data-emoji="${CSS.escape(emoji)}"]`) : fresh.querySelector(selector);
  if (!same) return;
  same.focus();
  if (same.setSelectionRange) same.setSelectionRange(same.value.length, same.value.length);
}
function receipts(message) {
  const readers = seenBy(message).filter((agent) => agent !== state.me);
  if (!readers.length) return null;
  return h("p", { class: "receipts" }, `Seen by ${readers.join(", ")}`);
}
function mentionsIn(text) {
  const active = new Set(state.participants.map((p) => p.agent_id));
  const named = [...text.matchAll(MENTION)].map((match) => trimMention(match[1]));
  return [...new Set(named.filter((agent) => active.has(agent)))];
}

// js/typing.js
var RENEW_MS = 3e3;
var send = () => {
};
var typists = /* @__PURE__ */ new Map();
var indicators = /* @__PURE__ */ new Set();
var keyOf = (talkId, parentId) => `${talkId}|${parentId ?? ""}`;
function useSender(fn) {
  send = fn;
}
function handleTyping(frame) {
  const key = keyOf(frame.talk_id, frame.parent_id);
  const agents = typists.get(key) ?? /* @__PURE__ */ new Set();
  if (frame.state === "started") agents.add(frame.agent_id);
  else agents.delete(frame.agent_id);
  if (agents.size) typists.set(key, agents);
  else typists.delete(key);
  drawAll();
}
function forgetTypists() {
  typists.clear();
  drawAll();
}
function typingIndicator(talkId, parentId = null) {
  const element = h("p", { class: "typing", "aria-live": "polite" });
  const indicator = { element, key: keyOf(talkId, parentId) };
  indicators.add(indicator);
  draw2(indicator);
  return element;
}
function drawAll() {
  for (const indicator of indicators) {
    if (!indicator.element.isConnected && indicator.drawn) indicators.delete(indicator);
    else draw2(indicator);
  }
}
function draw2(indicator) {
  indicator.drawn = true;
  const names = [...typists.get(indicator.key) ?? []].filter((agent) => agent !== state.me).map(agentName);
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing\u2026`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing\u2026`;
  else if (names.length > 2) text = `${names.length} people are typing\u2026`;
  fill(indicator.element, text);
}
function myTyping(talkId, parentId = null) {
  let renewedAt = 0;
  const frame = (type) => ({ type, talk_id: talkId, parent_id: parentId });
  return {
    changed(text) {
      if (text.trim() === "") return this.stopped();
      const now = Date.now();
      if (now - renewedAt >= RENEW_MS) {
        renewedAt = now;
        send(frame("typing"));
      }
    },
    stopped() {
      if (renewedAt === 0) return;
      renewedAt = 0;
      send(frame("typing_stop"));
    },
    /** The message went: the server stops my typing there itself. */
    sent() {
      renewedAt = 0;
    }
  };
}

// js/composer.js
function composer({ talkId, parentId = null, label, onSent }) {
  const fieldId = `composer-${parentId ?? "main"}`;
  const text = h("textarea", { id: fieldId, name: "text", rows: 2, placeholder: label, autocomplete: "off" });
  const mediaName = h("input", { type: "text", name: "media-name", placeholder: "report.pdf", "aria-label": "Attachment name" });
  const mediaUrl = h("input", { type: "url", name: "media-url", placeholder: "https://\u2026", "aria-label": "Attachment URL" });
  const mediaType = h("input", { type: "text", name: "media-type", value: "application/octet-stream", "aria-label": "Attachment type" });
  const attach = h(
    "details",
    { class: "attach" },
    h("summary", {}, "Attach a link"),
    h("div", { class: "row" }, mediaName, mediaUrl, mediaType)
  );
  const send3 = h("button", { type: "submit" }, "Send");
  const form = h(
    "form",
    { class: "composer" },
    typingIndicator(talkId, parentId),
    h("label", { for: fieldId, class: "visually-hidden" }, label),
    text,
    h("div", { class: "row" }, attach, send3)
  );
  const typing = myTyping(talkId, parentId);
  text.addEventListener("input", () => typing.changed(text.value));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { text: text.value };
    if (parentId) body.parent_id = parentId;
    const mentions = mentionsIn(text.value);
    if (mentions.length) body.mentions = mentions;
    if (mediaUrl.value.trim()) {
      body.medias = [{ type: mediaType.value.trim(), url: mediaUrl.value.trim(), name: mediaName.value.trim() || mediaUrl.value.trim().split("/").pop() }];
    }
    send3.disabled = true;
    const sent = await attempt("send the message", () => sendMessage(talkId, body));
    send3.disabled = false;
    if (!sent) return;
    typing.sent();
    text.value = "";
    mediaName.value = "";
    mediaUrl.value = "";
    attach.open = false;
    putMessage(sent);
    onSent(sent);
    text.focus();
  });
  text.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  return { element: form, focus: () => text.focus(), setEnabled(enabled, why) {
    text.disabled = !enabled;
    send3.disabled = !enabled;
    text.placeholder = enabled ? label : why;
  } };
}

// js/presence.js
var WATCH_MAX = 200;
var send2 = () => {
};
var watched = [];
function useSender2(fn) {
  send2 = fn;
}
async function loadPresence(talkId) {
  const presences = await allPages((token2) => talkPresence(talkId, token2));
  if (talkId !== state.openTalkId) return;
  state.presence = new Map(presences.map((presence) => [presence.agent_id, presence]));
  emit("presence");
  watched = presences.map((presence) => presence.agent_id).slice(0, WATCH_MAX);
  watchAgain();
}
function watchAgain() {
  if (watched.length) send2({ type: "presence_subscribe", agent_ids: watched });
}
function handlePresence(frame) {
  state.presence.set(frame.agent_id, frame);
  emit("presence");
}
function presenceDot(agentId) {
  const presence = state.presence.get(agentId);
  const status = presence ? presence.status : "unknown";
  const label = status === "online" ? "online" : presence && presence.tm_last_seen ? `offline, last seen ${shortTime(presence.tm_last_seen)}` : "offline";
  return h("span", { class: `presence ${status}`, role: "img", "aria-label": label, title: label });
}

// js/thread.js
var panel = null;
async function openThread(parent) {
  const talkId = state.openTalkId;
  const [first, replies] = await Promise.all([
    parent.talk_id ? parent : attempt("open the thread", () => getMessage(parent.id)),
    attempt("load the replies", () => allPages((token2) => listReplies(parent.id, token2)))
  ]);
  if (!first || !replies || state.openTalkId !== talkId) return;
  if (!state.messages.has(first.id)) state.messages.set(first.id, first);
  for (const reply of replies) state.messages.set(reply.id, reply);
  state.thread = { parentId: first.id, ids: replies.map((reply) => reply.id) };
  const list2 = h("ol", { class: "messages thread-replies", "aria-label": "Replies" });
  const replyComposer = composer({ talkId, parentId: first.id, label: "Reply in the thread", onSent: showSent });
  const talk = state.talks.get(talkId);
  if (talk && talk.status === "closed") replyComposer.setEnabled(false, "This talk is closed");
  const element = h(
    "section",
    { class: "panel thread", "aria-labelledby": "thread-title" },
    h(
      "header",
      { class: "panel-header" },
      h("h2", { id: "thread-title", tabIndex: -1 }, "Thread"),
      h("button", { type: "button", class: "quiet", "aria-label": "Close the thread", onclick: () => closeThread() }, "\xD7")
    ),
    h("ol", { class: "messages thread-parent", "aria-label": "First message" }),
    list2,
    replyComposer.element
  );
  panel = { element, parentList: element.querySelector(".thread-parent"), list: list2, composer: replyComposer, elements: /* @__PURE__ */ new Map() };
  panel.parentList.append(draw3(first));
  list2.append(...state.thread.ids.map((id2) => draw3(state.messages.get(id2))));
  showAside(element, "thread");
  list2.scrollTop = list2.scrollHeight;
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented && event.target.tagName !== "TEXTAREA") closeThread();
  });
  emit("aside");
  replyComposer.focus();
}
function showSent(reply) {
  if (!panel || !state.thread || state.thread.ids.includes(reply.id)) return;
  state.thread.ids.push(reply.id);
  panel.list.append(draw3(reply));
  panel.list.lastElementChild.scrollIntoView({ block: "nearest" });
}
function closeThread() {
  state.thread = null;
  panel = null;
  closeAside();
  emit("aside");
}
function draw3(message) {
  const element = messageElement(message, { inThread: true });
  panel.elements.set(message.id, element);
  return element;
}
on("message", (message) => {
  const old = panel && regions.aside.contains(panel.element) && panel.elements.get(message.id);
  if (old) replaceMessage(old, draw3(message));
});
on("thread-added", (message) => {
  if (!panel) return;
  panel.list.append(draw3(message));
  panel.list.lastElementChild.scrollIntoView({ block: "nearest" });
  if (message.agent_id !== state.me) announce(`${message.agent_id} in the thread: ${message.text}`);
});
on("talk", (talk) => {
  if (panel) panel.composer.setEnabled(talk.status !== "closed", "This talk is closed");
});
function forgetThread() {
  state.thread = null;
  panel = null;
}

// js/participants.js
var panel2 = null;
async function loadParticipants(talkId) {
  const participants = await allPages((token2) => listParticipants(talkId, token2));
  if (talkId !== state.openTalkId) return;
  state.participants = participants;
  emit("participants");
}
function toggleParticipants() {
  if (asideName() === "participants") {
    panel2 = null;
    closeAside();
  } else {
    forgetThread();
    panel2 = build();
    showAside(panel2.element, "participants");
    draw4();
    panel2.title.focus();
  }
  emit("aside");
}
function build() {
  const title = h("h2", { id: "participants-title", tabIndex: -1 }, "Participants");
  const list2 = h("ul", { class: "participants", "aria-labelledby": "participants-title" });
  const known = h("datalist", { id: "known-agents" }, state.agents.map((agent) => h("option", { value: agent })));
  const field = h("input", { id: "add-participant", name: "agent_id", type: "text", list: "known-agents", autocomplete: "off", placeholder: "agent id" });
  const add2 = h(
    "form",
    { class: "add-participant" },
    h("label", { for: "add-participant" }, "Add a participant"),
    h("div", { class: "row" }, field, h("button", { type: "submit" }, "Add")),
    known
  );
  add2.addEventListener("submit", async (event) => {
    event.preventDefault();
    const agentId = field.value.trim();
    if (!agentId) return;
    const added = await attempt(`add ${agentId}`, () => addParticipant(state.openTalkId, agentId));
    if (!added) return;
    field.value = "";
    if (added.talk_id === state.openTalkId && !state.participants.some((p) => p.id === added.id)) {
      state.participants.push(added);
      emit("participants");
    }
  });
  const talkActions = h("div", { class: "talk-actions" });
  const element = h(
    "section",
    { class: "panel participants-panel", "aria-labelledby": "participants-title" },
    h(
      "header",
      { class: "panel-header" },
      title,
      h("button", { type: "button", class: "quiet", "aria-label": "Close the participants panel", onclick: () => toggleParticipants() }, "\xD7")
    ),
    list2,
    add2,
    talkActions
  );
  element.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && !event.defaultPrevented) toggleParticipants();
  });
  return { element, title, list: list2, add: add2, talkActions };
}
function draw4() {
  if (!panel2) return;
  const talk = state.talks.get(state.openTalkId);
  fill(panel2.list, state.participants.map((participant) => {
    const mine = participant.agent_id === state.me;
    const read = state.reads.get(participant.agent_id);
    return h(
      "li",
      { dataset: { agentId: participant.agent_id } },
      h(
        "span",
        { class: "grow" },
        presenceDot(participant.agent_id),
        h("span", { class: "author" }, agentName(participant.agent_id)),
        read && read.tm_read ? h("span", { class: "read-at" }, " \xB7 read ", timeElement(read.tm_read)) : null
      ),
      h("button", {
        type: "button",
        class: mine ? "link danger leave" : "link danger",
        "aria-label": mine ? "Leave this talk" : `Remove ${participant.agent_id}`,
        onclick: () => remove(participant, mine)
      }, mine ? "Leave" : "Remove")
    );
  }));
  const closed = talk && talk.status === "closed";
  panel2.add.hidden = Boolean(closed);
  fill(panel2.talkActions, talk ? h("button", {
    type: "button",
    class: "secondary",
    onclick: () => closeOrReopen(talk)
  }, closed ? "Reopen talk" : "Close talk") : null);
}
async function remove(participant, mine) {
  const doing = mine ? "leave the talk" : `remove ${participant.agent_id}`;
  const left = await attempt(doing, () => removeParticipant(participant.talk_id, mine ? "me" : participant.id));
  if (!left) return;
  if (mine) {
    dropTalk(left.talk_id);
    if (left.talk_id === state.openTalkId) emit("left", left.talk_id);
  } else if (left.talk_id === state.openTalkId) {
    state.participants = state.participants.filter((p) => p.id !== left.id);
    emit("participants");
  }
}
async function closeOrReopen(talk) {
  const closed = talk.status === "closed";
  const changed = await attempt(closed ? "reopen the talk" : "close the talk", () => closed ? reopenTalk(talk.id) : closeTalk(talk.id));
  if (changed) mergeTalk(changed);
}
on("participants", draw4);
on("presence", draw4);
on("reads", draw4);
on("talk", draw4);
on("left", () => {
  panel2 = null;
});

// js/talk_view.js
var soon2 = debouncer(400);
var view = null;
async function openTalk(talkId, { focusMessageId = null } = {}) {
  const talk = state.talks.get(talkId);
  state.openTalkId = talkId;
  state.messages = /* @__PURE__ */ new Map();
  state.mainIds = [];
  state.olderPage = "";
  state.thread = null;
  state.participants = [];
  state.reads = /* @__PURE__ */ new Map();
  state.presence = /* @__PURE__ */ new Map();
  view = buildView(talkId);
  showPage(view.element);
  drawHeader(talk);
  emit("talks");
  const [page] = await Promise.all([
    attempt("load the messages", () => listMessages(talkId)),
    attempt("load the participants", () => loadParticipants(talkId)),
    attempt("load the read receipts", () => loadReads(talkId)),
    attempt("load who is online", () => loadPresence(talkId))
  ]);
  if (state.openTalkId !== talkId || !page) return;
  addOlder(page);
  scrollDown(true);
  markReadIfUnread();
  if (focusMessageId) await showMessage(focusMessageId);
  else view.composer.focus();
}
function buildView(talkId) {
  const title = h("h2", { tabIndex: -1, id: "talk-title" });
  const about = h("p", { class: "about" });
  const participantsButton = h("button", { type: "button", "aria-expanded": "false", "aria-controls": "aside", onclick: () => toggleParticipants() }, "Participants");
  const back = h("a", { href: "#/", class: "back", "aria-label": "Back to the talk list" }, "\u2190");
  const older = h("button", { type: "button", class: "link older", hidden: true, onclick: () => loadOlder() }, "Load older messages");
  const list2 = h("ol", { class: "messages", "aria-label": "Messages" });
  const notice = h("p", { class: "notice", hidden: true });
  const talkComposer = composer({ talkId, label: "Write a message", onSent: showSent2 });
  const element = h(
    "section",
    { class: "talk-view", "aria-labelledby": "talk-title" },
    h("header", { class: "talk-header" }, back, h("div", { class: "grow" }, title, about), participantsButton),
    h("div", { class: "scroller" }, older, list2),
    notice,
    talkComposer.element
  );
  return { talkId, element, title, about, participantsButton, older, list: list2, notice, composer: talkComposer, elements: /* @__PURE__ */ new Map(), marked: /* @__PURE__ */ new Set() };
}
function drawHeader(talk) {
  if (!view || !talk) return;
  fill(view.title, talkTitle(talk));
  const parts = [talk.type, talk.status === "closed" ? "closed" : null, talk.detail || null].filter(Boolean);
  fill(view.about, parts.join(" \xB7 "));
  const closed = talk.status === "closed";
  view.element.classList.toggle("closed", closed);
  view.notice.hidden = !closed;
  fill(view.notice, "This talk is closed: reopen it from the participants panel to write again.");
  view.composer.setEnabled(!closed, "This talk is closed");
}
function addOlder(page) {
  const ids = [];
  for (const message of page.result.slice().reverse()) {
    if (!state.messages.has(message.id)) state.messages.set(message.id, message);
    if (!state.mainIds.includes(message.id)) ids.push(message.id);
  }
  state.mainIds = [...ids, ...state.mainIds];
  state.olderPage = page.next_page_token;
  const scroller = view.list.parentElement;
  const fromBottom = scroller.scrollHeight - scroller.scrollTop;
  view.list.prepend(...ids.map((id2) => draw5(state.messages.get(id2))));
  view.older.hidden = !state.olderPage;
  scroller.scrollTop = scroller.scrollHeight - fromBottom;
}
async function loadOlder() {
  const talkId = view.talkId;
  const page = await attempt("load older messages", () => listMessages(talkId, state.olderPage));
  if (page && state.openTalkId === talkId) addOlder(page);
  return Boolean(page);
}
function showSent2(message) {
  if (!view || state.mainIds.includes(message.id)) return;
  state.mainIds.push(message.id);
  view.list.append(draw5(message));
  scrollDown(true);
}
function draw5(message) {
  const element = messageElement(message, { onOpenThread: (parent) => openThread(parent) });
  view.elements.set(message.id, element);
  return element;
}
function redraw(id2) {
  const old = view && view.elements.get(id2);
  const message = state.messages.get(id2);
  if (old && message) replaceMessage(old, draw5(message));
}
function scrollDown(always) {
  const { list: list2 } = view;
  const scroller = list2.parentElement;
  const nearBottom = scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 120;
  if (always || nearBottom) scroller.scrollTop = scroller.scrollHeight;
}
async function showMessage(messageId) {
  let message = state.messages.get(messageId) || await attempt("open the message", () => getMessage(messageId));
  if (!message || !view) return;
  if (message.parent_id) {
    await openThread(state.messages.get(message.parent_id) || { id: message.parent_id });
    flash(document.querySelector(`#aside [data-message-id="${CSS.escape(messageId)}"]`));
    return;
  }
  while (!view.elements.has(messageId) && state.olderPage) {
    if (!await loadOlder()) return;
  }
  flash(view.elements.get(messageId));
}
function flash(element) {
  if (!element) return;
  element.scrollIntoView({ block: "center" });
  element.classList.add("flash");
  element.tabIndex = -1;
  element.focus();
  setTimeout(() => element.classList.remove("flash"), 2500);
}
function markReadIfUnread() {
  const talk = state.talks.get(state.openTalkId);
  if (!talk || !(talk.unread_count > 0 || talk.mention_count > 0)) return;
  markRead2(talk.id);
}
function markRead2(talkId) {
  return attempt("mark the talk read", async () => {
    const read = await markRead(talkId);
    setCounts(talkId, read.unread_count, read.mention_count);
  });
}
on("talk", (talk) => drawHeader(talk));
on("message", (message) => {
  redraw(message.id);
});
on("main-added", (message) => {
  if (!view) return;
  view.list.append(draw5(message));
  scrollDown(message.agent_id === state.me);
  if (message.agent_id !== state.me) announce(message.type === "system" ? message.text : `${message.agent_id}: ${message.text}`);
});
on("reads", () => {
  if (!view) return;
  const now = markedIds();
  for (const id2 of /* @__PURE__ */ new Set([...view.marked, ...now])) redraw(id2);
  view.marked = now;
});
on("unseen", (talkId) => {
  if (talkId === state.openTalkId && document.visibilityState === "visible") soon2(talkId, () => markRead2(talkId));
});
on("participants", () => {
  if (view) fill(view.participantsButton, `Participants (${state.participants.length})`);
});
on("aside", () => {
  if (view) view.participantsButton.setAttribute("aria-expanded", String(asideName() === "participants"));
});
on("left", (talkId) => {
  if (!view || view.talkId !== talkId) return;
  closeAside();
  view.notice.hidden = false;
  fill(view.notice, "You are no longer a participant of this talk.");
  view.composer.setEnabled(false, "You left this talk");
});
document.addEventListener("visibilitychange", () => {
  if (document.visibilityState === "visible" && state.openTalkId) markReadIfUnread();
});
function closeTalk2() {
  state.openTalkId = null;
  state.thread = null;
  view = null;
  emit("talks");
}

// js/main.js
var SUBSCRIBE_PATIENCE_MS = 3e3;
var live = null;
async function boot() {
  findRegions();
  const agents = await attempt("load the list of agents", loadAgents);
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
  const ready = new Promise((resolve) => {
    subscribed = resolve;
  });
  live = new Live(session.token, {
    onSubscribed: () => subscribed(),
    onEvent: handleEvent,
    onResync: () => reloadEverything(),
    onStatus: (status) => {
      showConnection(status);
      if (status === "reconnecting") forgetTypists();
      if (status === "live") watchAgain();
    },
    onError: (frame) => showError("follow the talks live", { message: frame.message, code: frame.code, status: 0 }),
    // Frames without a seq: typing and presence.
    onSignal: (frame) => {
      if (frame.type === "typing") handleTyping(frame);
      else if (frame.type === "presence") handlePresence(frame);
    }
  });
  useSender((frame) => live.send(frame));
  useSender2((frame) => live.send(frame));
  live.start();
  await Promise.race([ready, new Promise((resolve) => setTimeout(resolve, SUBSCRIBE_PATIENCE_MS))]);
  await attempt("load the talk list", loadTalks);
  window.addEventListener("hashchange", route);
  route();
}
function buildShell() {
  fill(document.getElementById("whoami"), "Signed in as ", h("strong", {}, state.me));
  const signOut = document.getElementById("sign-out");
  signOut.hidden = false;
  signOut.addEventListener("click", () => {
    forgetSession();
    location.hash = "";
    location.reload();
  });
  const field = h("input", { id: "search-q", name: "q", type: "search", placeholder: "Search messages", autocomplete: "off" });
  const search = h(
    "form",
    { role: "search", class: "search" },
    h("label", { for: "search-q", class: "visually-hidden" }, "Search messages"),
    field
  );
  search.addEventListener("submit", (event) => {
    event.preventDefault();
    const q = field.value.trim();
    if (q) location.hash = `#/search?${new URLSearchParams({ q })}`;
  });
  const list2 = h("ul", { class: "talk-list", "aria-label": "Your talks" });
  fill(
    regions.sidebar,
    search,
    h(
      "div",
      { class: "row sidebar-actions" },
      h("a", { href: "#/new", class: "button" }, "New talk"),
      h("a", { href: "#/directory", class: "button secondary" }, "Public talks")
    ),
    h("h2", { class: "list-title" }, "Talks"),
    list2
  );
  regions.sidebar.hidden = false;
  mountTalkList(list2);
}
function showConnection(status) {
  const labels = { connecting: "Connecting\u2026", live: "Live", reconnecting: "Reconnecting\u2026" };
  const element = document.getElementById("connection");
  element.dataset.status = status;
  fill(element, labels[status]);
}
async function reloadEverything() {
  await attempt("reload the talk list", loadTalks);
  route();
}
function route() {
  const hash = location.hash.replace(/^#/, "") || "/";
  const [path, query2] = hash.split("?");
  const parts = path.split("/").filter(Boolean);
  if (parts[0] !== "talk") closeTalk2();
  if (parts[0] === "talk" && parts[1]) {
    if (!state.talks.has(parts[1])) {
      showPage(h("p", { class: "page notice" }, "That talk is not one of yours (any more)."));
      return;
    }
    openTalk(parts[1], { focusMessageId: parts[2] === "message" ? parts[3] : null });
  } else if (parts[0] === "new") {
    showNewTalk();
  } else if (parts[0] === "directory") {
    showDirectory();
  } else if (parts[0] === "search") {
    showSearch(new URLSearchParams(query2).get("q") || "");
  } else {
    showNothing(h(
      "section",
      { class: "page welcome" },
      h("h2", {}, "Welcome"),
      h("p", {}, "Pick a talk on the left, start a new one, or find a public talk to join.")
    ));
  }
}
boot();
