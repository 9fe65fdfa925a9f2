// The one WebSocket of the page, subscribed to "*" (every talk I am in).
//
// It keeps the `seq` of the last event it handed on. After a disconnect it
// reconnects with backoff and subscribes with `since` that seq: the server
// replays what was missed, and an event at or below that seq is never
// handed on twice. On `resync_required` the page reloads over HTTP.
// Frames without a `seq` (typing, presence: ephemeral) go to `onSignal`.

const FIRST_DELAY_MS = 250;
const LONGEST_DELAY_MS = 10000;

export class Live {
  /**
   * handlers: onEvent(frame), onSubscribed(), onResync(), onSignal(frame),
   * onStatus("connecting" | "live" | "reconnecting"), onError(frame).
   */
  constructor(token, handlers) {
    this.token = token;
    this.handlers = handlers;
    this.lastSeq = null;
    this.failures = 0;
    this.socket = null;
    this.stopped = false;
  }

  start() {
    this.handlers.onStatus('connecting');
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
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const socket = new WebSocket(`${scheme}//${location.host}/v1.0/ws?token=${encodeURIComponent(this.token)}`);
    this.socket = socket;
    socket.addEventListener('open', () => {
      const subscribe = { type: 'subscribe', talk_id: '*' };
      if (this.lastSeq !== null) subscribe.since = this.lastSeq;
      socket.send(JSON.stringify(subscribe));
    });
    socket.addEventListener('message', (message) => this.receive(JSON.parse(message.data)));
    socket.addEventListener('close', () => {
      if (this.socket !== socket || this.stopped) return;
      this.handlers.onStatus('reconnecting');
      const delay = Math.min(LONGEST_DELAY_MS, FIRST_DELAY_MS * 2 ** this.failures);
      this.failures += 1;
      setTimeout(() => this.open(), delay * (0.75 + Math.random() / 2));
    });
  }

  receive(frame) {
    switch (frame.type) {
      case 'subscribed': {
        const first = this.lastSeq === null;
        this.lastSeq = Math.max(this.lastSeq ?? 0, frame.seq);
        this.failures = 0;
        this.handlers.onStatus('live');
        if (first) this.handlers.onSubscribed();
        return;
      }
      case 'resync_required':
        this.lastSeq = frame.seq;
        this.handlers.onResync();
        return;
      case 'error':
        this.handlers.onError(frame);
        return;
      default:
        if (typeof frame.seq !== 'number') {
          this.handlers.onSignal(frame);
        } else if (this.lastSeq === null || frame.seq > this.lastSeq) {
          this.lastSeq = frame.seq;
          this.handlers.onEvent(frame);
        }
    }
  }
}
