// The chat session shared by the imflask widget and the agent console.
//
// A ChatSession keeps one Socket.IO connection and, per peer, a timeline of
// stored entries keyed by seq, so an entry that arrives twice (live, from
// history, from another tab) is shown once. Messages wait in an outbox in
// sessionStorage until the server acknowledges them. After a reconnect or a
// reload they are resent in order with their original client_msg_id, and the
// server stores a repeated id only once. Message bodies reach the page
// through textContent only.
(function (global) {
  "use strict";

  var imflask = (global.imflask = global.imflask || {});

  var ACK_TIMEOUT_MS = 10000;
  var CONNECT_TIMEOUT_MS = 5000;
  var HISTORY_PAGE_SIZE = 50;
  // A reconnect fills a gap by paging back through history, at most this
  // many pages; anything older loads when the user scrolls up.
  var MAX_GAP_PAGES = 10;
  var CACHED_ENTRIES = 100;
  var TYPING_INTERVAL_MS = 2000;
  var RECEIPT_DELAY_MS = 300;
  var RETRY_DELAY_MS = 2000;
  // Errors after which the same message may succeed later. Codes other than
  // the protocol's come from this file: `offline` and `timeout`.
  var RETRYABLE = ["rate_limited", "unavailable", "internal_error", "offline", "timeout"];
  // A message that the server keeps rejecting with a retryable error (other
  // than a lost connection) fails after this many attempts.
  var MAX_ATTEMPTS = 5;

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (match, key) {
      return key in values ? String(values[key]) : match;
    });
  }

  // Read the uid from a JWT without verifying it. The uid only names this
  // user's sessionStorage entries; the server checks the signature.
  function uidFromToken(token) {
    if (typeof token !== "string") { return null; }
    var parts = token.split(".");
    if (parts.length !== 3) { return null; }
    try {
      var binary = atob(parts[1].replace(/-/g, "+").replace(/_/g, "/"));
      var bytes = Uint8Array.from(binary, function (char) { return char.charCodeAt(0); });
      var claims = JSON.parse(new TextDecoder().decode(bytes));
      return claims.sub === undefined || claims.sub === null ? null : String(claims.sub);
    } catch (error) {
      return null;
    }
  }

  function newClientMessageId() {
    var random = global.crypto && global.crypto.randomUUID
      ? global.crypto.randomUUID().replace(/-/g, "")
      : Math.random().toString(36).slice(2) + Date.now().toString(36);
    return "w-" + random.slice(0, 24);
  }

  // Return sessionStorage, or a Map when the browser blocks storage (private
  // modes, sandboxed frames). The session then survives reconnects only.
  function openStorage() {
    try {
      var probe = "imflask:probe";
      global.sessionStorage.setItem(probe, "1");
      global.sessionStorage.removeItem(probe);
      return global.sessionStorage;
    } catch (error) {
      var memory = new Map();
      return {
        getItem: function (key) { return memory.has(key) ? memory.get(key) : null; },
        setItem: function (key, value) { memory.set(key, String(value)); },
        removeItem: function (key) { memory.delete(key); },
      };
    }
  }

  class Emitter {
    constructor() { this.handlers = {}; }

    on(name, handler) {
      (this.handlers[name] = this.handlers[name] || []).push(handler);
      return this;
    }

    emit(name) {
      var args = Array.prototype.slice.call(arguments, 1);
      (this.handlers[name] || []).forEach(function (handler) { handler.apply(null, args); });
    }
  }

  // The entries of one customer–agent pair, in seq order, plus this tab's
  // unsent (pending) and rejected (failed) messages to that peer.
  class Timeline {
    constructor(peer) {
      this.peer = peer;
      this.entries = new Map();
      this.seqByClientId = new Map();
      this.pending = new Map();
      this.failed = new Map();
      this.conversation = null;
      this.active = false;
      this.maxSeq = 0;
      this.minSeq = 0;
      this.exhausted = false;
      this.deliveredSeq = 0;
      this.receiptSeq = 0;
      this.unread = 0;
      this.endedId = null;
    }

    // Add a stored entry; return whether it was new.
    add(message) {
      if (!message || typeof message.seq !== "number" || this.entries.has(message.seq)) { return false; }
      this.entries.set(message.seq, message);
      this.maxSeq = Math.max(this.maxSeq, message.seq);
      this.minSeq = this.minSeq ? Math.min(this.minSeq, message.seq) : message.seq;
      if (message.client_msg_id) {
        this.seqByClientId.set(message.client_msg_id, message.seq);
        this.pending.delete(message.client_msg_id);
      }
      if (message.seq === 1) { this.exhausted = true; }
      return true;
    }

    // Return every entry to show: stored ones by seq, then failed and pending ones.
    items() {
      var stored = Array.from(this.entries.values()).sort(function (a, b) { return a.seq - b.seq; });
      return stored.map(function (message) { return { key: "s" + message.seq, message: message, state: null }; })
        .concat(Array.from(this.failed.values()).map(function (item) {
          return { key: "f" + item.client_msg_id, message: item, state: "failed", error: item.error };
        }))
        .concat(Array.from(this.pending.values()).map(function (item) {
          return { key: "p" + item.client_msg_id, message: item, state: "sending" };
        }));
    }

    lastText() {
      var best = null;
      this.entries.forEach(function (message) {
        if (message.type === "text" && (!best || message.seq > best.seq)) { best = message; }
      });
      var pending = Array.from(this.pending.values());
      return pending.length ? pending[pending.length - 1] : best;
    }

    toCache() {
      var entries = Array.from(this.entries.values()).sort(function (a, b) { return a.seq - b.seq; });
      return { conversation: this.conversation, active: this.active, entries: entries.slice(-CACHED_ENTRIES) };
    }
  }

  class ChatSession extends Emitter {
    // options: server (origin URL), token (string, or a function returning
    // one or a promise of one), locale, io (the socket.io-client function),
    // role ("customer" or "agent", the page's expectation).
    constructor(options) {
      super();
      this.server = options.server;
      this.tokenSource = options.token;
      this.locale = options.locale;
      this.io = options.io;
      this.role = options.role;
      this.storage = openStorage();
      this.namespace = null;
      this.identity = null;
      this.timelines = new Map();
      this.names = new Map();
      this.position = null;
      this.agent = null;
      this.queueLength = null;
      this.connection = "connecting";
      this.synced = false;
      this.outbox = [];
      this.flushing = false;
      this.retryTimer = null;
      this.syncs = new Map();
      this.lastTyping = new Map();
      this.receiptTimers = new Map();
      this.socket = null;
      this.saveTimer = null;
      this.restore(uidFromToken(typeof options.token === "string" ? options.token : null));
    }

    // -- connection ---------------------------------------------------------

    start() {
      var session = this;
      var socket = (this.socket = this.io(this.server, {
        auth: function (callback) { session.resolveToken().then(function (token) { callback({ token: token, locale: session.locale }); }); },
        transports: ["websocket", "polling"],
        reconnectionDelay: 500,
        reconnectionDelayMax: 4000,
        // A connection attempt that neither opens nor fails (a proxy that
        // drops the WebSocket before it opens) is retried after this long.
        timeout: CONNECT_TIMEOUT_MS,
      }));

      socket.on("connect", function () { session.setConnection("connected"); session.sync(); });
      socket.on("disconnect", function () {
        session.synced = false;
        session.setConnection("reconnecting");
      });
      socket.on("connect_error", function (error) {
        // A rejection by the server (an invalid token) is final; a network error retries by itself.
        var rejected = Boolean(error && error.data && error.data.code);
        session.setConnection(rejected ? "rejected" : "reconnecting", rejected ? error.data : null);
      });
      socket.on("assigned", function (data) { session.onAssigned(data); });
      socket.on("closed", function (data) { session.onClosed(data); });
      socket.on("queued", function (data) { session.position = data.position; session.emit("queued", data.position); });
      socket.on("message", function (message) { session.onMessage(message); });
      socket.on("typing", function (data) { session.emit("typing", data.from); });
      socket.on("delivered", function (data) { session.onDelivered(data); });
      socket.on("queue_length", function (data) { session.queueLength = data.queue_length; session.emit("queue_length", data.queue_length); });
    }

    resolveToken() {
      var source = this.tokenSource;
      return Promise.resolve(typeof source === "function" ? source() : source);
    }

    setConnection(status, error) {
      this.connection = status;
      this.emit("connection", status, error || null);
    }

    get connected() { return Boolean(this.socket && this.socket.connected); }

    // Emit an event and resolve with its ack; never rejects.
    request(event, payload) {
      var socket = this.socket;
      if (!this.connected) { return Promise.resolve({ ok: false, error: { code: "offline", message: "" } }); }
      return new Promise(function (resolve) {
        socket.timeout(ACK_TIMEOUT_MS).emit(event, payload, function (error, ack) {
          resolve(error || !ack ? { ok: false, error: { code: "timeout", message: "" } } : ack);
        });
      });
    }

    // Called on every (re)connect: read the state, fill the timelines, resend.
    async sync() {
      var ack = await this.request("state", {});
      if (!ack.ok) {
        this.emit("error", ack.error);
        this.retrySync();
        return;
      }

      this.adoptIdentity(ack.identity);
      this.mergeNames(ack.names);
      var activePeers = new Set();
      ack.conversations.forEach(function (conversation) {
        var timeline = this.timeline(this.peerOf(conversation));
        timeline.conversation = conversation;
        timeline.active = true;
        activePeers.add(timeline.peer);
      }, this);
      this.timelines.forEach(function (timeline) {
        if (timeline.active && !activePeers.has(timeline.peer)) {
          // The conversation ended while this client was away.
          this.endConversation(timeline, timeline.conversation, null);
        }
      }, this);

      if (this.identity.role === "customer") { this.position = ack.position; }
      if (this.identity.role === "agent") { this.agent = ack.agent; this.queueLength = ack.queue_length; }
      this.emit("state");

      for (var peer of activePeers) { await this.syncHistory(peer); }
      this.reconcileOutbox();
      this.flush();
      activePeers.forEach(function (peer) { this.scheduleReceipt(peer, true); }, this);
      this.synced = this.connected;
    }

    // Try the state request again while the connection lasts; a new connection syncs by itself.
    retrySync() {
      var session = this;
      var socket = this.socket;
      var id = socket.id;
      setTimeout(function () {
        if (socket.connected && socket.id === id) { session.sync(); }
      }, RETRY_DELAY_MS);
    }

    adoptIdentity(identity) {
      this.identity = identity;
      var namespace = "imflask:" + this.server + ":" + identity.uid;
      if (namespace !== this.namespace) { this.restore(identity.uid); }
      if (identity.name) { this.names.set(identity.uid, identity.name); }
    }

    // -- timelines and history ---------------------------------------------

    timeline(peer) {
      if (!this.timelines.has(peer)) { this.timelines.set(peer, new Timeline(peer)); }
      return this.timelines.get(peer);
    }

    peerOf(conversation) {
      var role = this.identity ? this.identity.role : this.role;
      return role === "agent" ? conversation.customer : conversation.agent;
    }

    messagePeer(message) {
      if (message.type === "system") { return this.peerOf(message.conversation); }
      return message.from === this.uid() ? message.to : message.from;
    }

    // Before the first state ack, the uid read from the token tells which cached entries are our own.
    uid() { return this.identity ? this.identity.uid : this.storedUid; }

    // Fetch the latest page; after a gap, page back until it is filled.
    syncHistory(peer) {
      if (this.syncs.has(peer)) { return this.syncs.get(peer); }
      var session = this;
      var promise = (async function () {
        var timeline = session.timeline(peer);
        var knownMax = timeline.maxSeq;
        var before;
        for (var page = 0; page < MAX_GAP_PAGES; page += 1) {
          var payload = { peer: peer, limit: HISTORY_PAGE_SIZE };
          if (before) { payload.before = before; }
          var ack = await session.request("history", payload);
          if (!ack.ok) { session.reportHistoryError(ack.error); break; }

          ack.messages.forEach(function (message) { timeline.add(message); });
          if (ack.messages.length < HISTORY_PAGE_SIZE) { timeline.exhausted = true; }
          var oldest = ack.messages.length ? ack.messages[0].seq : 0;
          if (!knownMax || !oldest || oldest <= knownMax + 1) { break; }
          before = oldest;
        }
        session.changed(peer);
      })();
      this.syncs.set(peer, promise);
      promise.then(function () { session.syncs.delete(peer); });
      return promise;
    }

    // Load the page before the oldest shown entry; resolve with how many were new.
    async loadOlder(peer) {
      var timeline = this.timeline(peer);
      if (timeline.exhausted || !timeline.minSeq) { return 0; }
      var ack = await this.request("history", { peer: peer, before: timeline.minSeq, limit: HISTORY_PAGE_SIZE });
      if (!ack.ok) { this.reportHistoryError(ack.error); return 0; }

      var added = ack.messages.filter(function (message) { return timeline.add(message); }).length;
      if (ack.messages.length < HISTORY_PAGE_SIZE) { timeline.exhausted = true; }
      this.changed(peer);
      return added;
    }

    // History of a conversation that just ended is rejected, which is no error to show.
    reportHistoryError(error) {
      if (error.code !== "not_in_conversation") { this.emit("error", error); }
    }

    onMessage(message) {
      var peer = this.messagePeer(message);
      var timeline = this.timeline(peer);
      var gap = timeline.maxSeq && message.seq > timeline.maxSeq + 1;
      if (!timeline.add(message)) { return; }

      var fromPeer = message.type === "text" && message.from === peer;
      if (fromPeer) {
        timeline.unread += 1;
        this.scheduleReceipt(peer, false);
      }
      this.changed(peer);
      this.emit("message", peer, message, fromPeer);
      if (gap) { this.syncHistory(peer); }
    }

    onAssigned(data) {
      this.mergeNames(data.names);
      var conversation = data.conversation;
      var peer = this.peerOf(conversation);
      var timeline = this.timeline(peer);
      var isNew = !timeline.active || !timeline.conversation || timeline.conversation.id !== conversation.id;
      timeline.conversation = conversation;
      timeline.active = true;
      this.position = null;
      if (isNew) { this.emit("assigned", conversation); }
      this.syncHistory(peer);
    }

    onClosed(data) {
      this.endConversation(this.timeline(this.peerOf(data.conversation)), data.conversation, data.reason);
    }

    // Mark a conversation ended and announce it once, whoever noticed first.
    endConversation(timeline, conversation, reason) {
      timeline.active = false;
      timeline.conversation = conversation;
      this.failOutbox(timeline.peer);
      this.changed(timeline.peer);
      if (conversation && timeline.endedId !== conversation.id) {
        timeline.endedId = conversation.id;
        this.emit("closed", conversation, reason);
      }
    }

    onDelivered(data) {
      var timeline = this.timeline(data.from);
      if (data.seq > timeline.deliveredSeq) {
        timeline.deliveredSeq = data.seq;
        this.changed(data.from);
      }
    }

    mergeNames(names) {
      if (!names) { return; }
      Object.keys(names).forEach(function (uid) {
        if (names[uid]) { this.names.set(uid, names[uid]); }
      }, this);
    }

    nameOf(uid) { return this.names.get(uid) || uid; }

    // -- sending ------------------------------------------------------------

    // Queue a message to ``peer``; it shows at once as pending.
    send(peer, body) {
      var item = { client_msg_id: newClientMessageId(), to: peer, from: this.uid(), body: body, ts: Date.now() / 1000, type: "text" };
      this.outbox.push(item);
      this.timeline(peer).pending.set(item.client_msg_id, item);
      this.saveOutbox();
      this.changed(peer);
      this.flush();
      return item;
    }

    // Send the outbox head first, one message at a time, so the server stores them in order.
    async flush() {
      if (this.flushing || !this.connected || !this.identity) { return; }
      this.flushing = true;
      try {
        while (this.outbox.length && this.connected) {
          var item = this.outbox[0];
          var timeline = this.timeline(item.to);
          if (!timeline.active) { this.failItem(item, { code: "not_in_conversation", message: "" }); continue; }

          var ack = await this.request("message", { to: item.to, body: item.body, client_msg_id: item.client_msg_id });
          if (this.outbox[0] !== item) { continue; }
          if (ack.ok) {
            this.outbox.shift();
            timeline.add(ack.message);
            this.saveOutbox();
            this.changed(item.to);
          } else if (this.shouldRetry(item, ack.error.code)) {
            this.scheduleRetry();
            break;
          } else {
            this.failItem(item, ack.error);
          }
        }
      } finally {
        this.flushing = false;
      }
    }

    shouldRetry(item, code) {
      if (code === "offline" || code === "timeout") { return true; }
      item.attempts = (item.attempts || 0) + 1;
      return RETRYABLE.indexOf(code) >= 0 && item.attempts < MAX_ATTEMPTS;
    }

    scheduleRetry() {
      var session = this;
      clearTimeout(this.retryTimer);
      this.retryTimer = setTimeout(function () { session.flush(); }, RETRY_DELAY_MS);
    }

    failItem(item, error) {
      this.outbox = this.outbox.filter(function (other) { return other !== item; });
      var timeline = this.timeline(item.to);
      timeline.pending.delete(item.client_msg_id);
      item.error = error;
      timeline.failed.set(item.client_msg_id, item);
      this.saveOutbox();
      this.changed(item.to);
    }

    failOutbox(peer) {
      this.outbox.filter(function (item) { return item.to === peer; }).forEach(function (item) {
        this.failItem(item, { code: "not_in_conversation", message: "" });
      }, this);
    }

    // Drop outbox messages that history shows were stored before the ack was lost.
    reconcileOutbox() {
      var session = this;
      this.outbox = this.outbox.filter(function (item) {
        var timeline = session.timeline(item.to);
        if (!timeline.seqByClientId.has(item.client_msg_id)) { return true; }
        timeline.pending.delete(item.client_msg_id);
        return false;
      });
      this.saveOutbox();
    }

    typing(peer) {
      var now = Date.now();
      if (now - (this.lastTyping.get(peer) || 0) < TYPING_INTERVAL_MS) { return; }
      this.lastTyping.set(peer, now);
      this.request("typing", { to: peer });
    }

    // Tell the peer which entries this client has received, after a short
    // pause so a burst of messages costs one event.
    scheduleReceipt(peer, force) {
      var session = this;
      clearTimeout(this.receiptTimers.get(peer));
      this.receiptTimers.set(peer, setTimeout(function () {
        var timeline = session.timeline(peer);
        if (!timeline.active || !timeline.maxSeq || (!force && timeline.maxSeq <= timeline.receiptSeq)) { return; }
        timeline.receiptSeq = timeline.maxSeq;
        session.request("delivered", { peer: peer, seq: timeline.maxSeq });
      }, RECEIPT_DELAY_MS));
    }

    // -- conversation actions -----------------------------------------------

    async consult() {
      var ack = await this.request("consult", {});
      if (!ack.ok) { return ack; }
      if (ack.status === "queued") {
        this.position = ack.position;
        this.emit("queued", ack.position);
      } else {
        this.onAssigned({ conversation: ack.conversation, names: ack.names });
      }
      return ack;
    }

    close(peer) {
      var isAgent = this.identity && this.identity.role === "agent";
      return this.request("close", isAgent ? { peer: peer } : {});
    }

    rate(peer, conversationId, score, comment) {
      var payload = { peer: peer, conversation: conversationId, score: score };
      if (comment) { payload.comment = comment; }
      return this.request("rate", payload);
    }

    async setAvailable(available) {
      var ack = await this.request("status", { available: available });
      if (ack.ok) {
        this.agent = ack.agent;
        this.emit("agent", ack.agent);
      }
      return ack;
    }

    // Refresh the agent's load and the queue length after its conversations change.
    async refreshAgent() {
      var ack = await this.request("state", {});
      if (!ack.ok) { return; }
      this.agent = ack.agent;
      this.queueLength = ack.queue_length;
      this.emit("agent", ack.agent);
      this.emit("queue_length", ack.queue_length);
    }

    markRead(peer) {
      var timeline = this.timeline(peer);
      if (timeline.unread) {
        timeline.unread = 0;
        this.changed(peer);
      }
    }

    forget(peer) {
      this.timelines.delete(peer);
      this.storage.removeItem(this.key("peer:" + peer));
      this.save();
    }

    // -- persistence --------------------------------------------------------

    key(name) { return this.namespace + ":" + name; }

    read(name) {
      try {
        return JSON.parse(this.storage.getItem(this.key(name)) || "null");
      } catch (error) {
        return null;
      }
    }

    write(name, value) {
      try {
        this.storage.setItem(this.key(name), JSON.stringify(value));
      } catch (error) {
        // Storage is full or blocked, so the session keeps working from memory.
      }
    }

    // Load the outbox and cached timelines of ``uid``, replacing what is in memory.
    restore(uid) {
      this.storedUid = uid;
      this.namespace = uid ? "imflask:" + this.server + ":" + uid : null;
      this.timelines = new Map();
      this.outbox = [];
      if (!this.namespace) { return; }

      (this.read("peers") || []).forEach(function (peer) {
        var cached = this.read("peer:" + peer);
        if (!cached) { return; }
        var timeline = this.timeline(peer);
        timeline.conversation = cached.conversation;
        timeline.active = cached.active;
        cached.entries.forEach(function (message) { timeline.add(message); });
      }, this);
      this.outbox = this.read("outbox") || [];
      this.outbox.forEach(function (item) { this.timeline(item.to).pending.set(item.client_msg_id, item); }, this);
    }

    saveOutbox() { if (this.namespace) { this.write("outbox", this.outbox); } }

    // Cache the timelines a moment after they change, for the next reload.
    save() {
      var session = this;
      if (!this.namespace) { return; }
      clearTimeout(this.saveTimer);
      this.saveTimer = setTimeout(function () {
        session.write("peers", Array.from(session.timelines.keys()));
        session.timelines.forEach(function (timeline, peer) { session.write("peer:" + peer, timeline.toCache()); });
      }, 200);
    }

    changed(peer) {
      this.save();
      this.emit("timeline", peer);
    }
  }

  // Renders a timeline into an <ol>, reusing the element of each entry so
  // that re-rendering keeps scroll position and focus.
  class TimelineView {
    // options: strings (translated texts), locale, session, describeSystem(message, timeline)
    // returning a text or null to hide the entry, and scroller, the element that
    // scrolls (the list itself by default).
    constructor(list, options) {
      this.list = list;
      this.scroller = options.scroller || list;
      this.options = options;
      this.nodes = new Map();
      this.clock = new Intl.DateTimeFormat(options.locale === "en" ? "en" : "zh-CN", { hour: "2-digit", minute: "2-digit" });
    }

    clear() {
      this.list.textContent = "";
      this.nodes = new Map();
    }

    nearBottom() {
      var scroller = this.scroller;
      return scroller.scrollHeight - scroller.scrollTop - scroller.clientHeight < 80;
    }

    scrollToEnd() {
      this.scroller.scrollTop = this.scroller.scrollHeight;
    }

    render(timeline) {
      var stick = this.nearBottom();
      var seen = new Set();
      var previous = null;
      timeline.items().forEach(function (item) {
        var text = this.describe(item, timeline);
        if (text === null) { return; }
        var node = this.nodes.get(item.key) || this.create(item);
        this.update(node, item, timeline, text);
        seen.add(item.key);
        var expected = previous ? previous.nextSibling : this.list.firstChild;
        if (node !== expected) { this.list.insertBefore(node, expected); }
        previous = node;
      }, this);
      this.nodes.forEach(function (node, key) {
        if (!seen.has(key)) { node.remove(); this.nodes.delete(key); }
      }, this);
      if (stick) { this.scrollToEnd(); }
    }

    describe(item, timeline) {
      if (item.message.type === "system") { return this.options.describeSystem(item.message, timeline); }
      return item.message.body;
    }

    create(item) {
      var node = document.createElement("li");
      var bubble = document.createElement("div");
      bubble.className = "bubble";
      var meta = document.createElement("div");
      meta.className = "meta";
      var time = document.createElement("time");
      var state = document.createElement("span");
      state.className = "state";
      meta.append(time, state);
      node.append(bubble, meta);
      this.nodes.set(item.key, node);
      return node;
    }

    update(node, item, timeline, text) {
      var message = item.message;
      var strings = this.options.strings;
      var mine = message.type === "text" && message.from === this.options.session.uid();
      var side = mine ? "mine" : "theirs";
      if (message.type === "system") { side = "system"; }
      node.className = "msg " + side;
      node.dataset.key = item.key;
      if (message.seq) { node.dataset.seq = String(message.seq); }
      node.firstChild.textContent = text;

      var time = node.querySelector("time");
      var date = new Date(message.ts * 1000);
      time.dateTime = date.toISOString();
      time.textContent = this.clock.format(date);

      var state = "";
      if (mine) {
        var receipt = message.seq <= timeline.deliveredSeq ? "delivered" : "sent";
        state = item.state || receipt;
      }
      var label = node.querySelector(".state");
      label.dataset.state = state;
      label.textContent = state ? strings["state_" + state] : "";
      if (state === "failed") {
        var reason = item.error && item.error.message ? item.error.message : strings.not_sent_ended;
        label.textContent = strings.state_failed + " · " + reason;
      }
    }
  }

  imflask.format = format;
  imflask.ChatSession = ChatSession;
  imflask.TimelineView = TimelineView;
  imflask.uidFromToken = uidFromToken;
})(window);
