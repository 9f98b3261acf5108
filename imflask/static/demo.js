// Demo chat page for both roles. Message bodies are inserted with
// textContent only, so a body is always shown as text, never as HTML.
(function () {
  "use strict";

  var cfg = window.IMFLASK_DEMO;
  var text = cfg.strings;
  var $ = function (id) { return document.getElementById(id); };

  // Per-peer state: messages seen by seq, unread count, draft.
  var peers = {};
  var current = null;
  var typingTimer = null;
  var lastTypingSent = 0;

  function format(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) { return String(values[key]); });
  }

  function peerState(uid) {
    if (!peers[uid]) { peers[uid] = { seen: {}, messages: [], unread: 0, draft: "", conversation: null }; }
    return peers[uid];
  }

  function setStatus(message) { $("status").textContent = message; }

  function peerOf(conversation) {
    return cfg.role === "agent" ? conversation.customer : conversation.agent;
  }

  function messagePeer(message) {
    if (message.type === "system") { return peerOf(message.conversation); }
    return message.from === cfg.uid ? message.to : message.from;
  }

  function render() {
    var list = $("messages");
    list.textContent = "";
    if (!current) { return; }
    peerState(current).messages.forEach(function (message) { list.appendChild(renderMessage(message)); });
    list.scrollTop = list.scrollHeight;
  }

  function renderMessage(message) {
    var item = document.createElement("li");
    if (message.type === "system") {
      item.className = "system";
      item.textContent = message.event === "started" ? text.started_entry : text.closed_entry;
      return item;
    }
    item.className = message.from === cfg.uid ? "mine" : "theirs";
    item.textContent = message.body;
    var meta = document.createElement("span");
    meta.className = "meta";
    meta.textContent = new Date(message.ts * 1000).toLocaleTimeString() + (message.pending ? " …" : "");
    item.appendChild(meta);
    return item;
  }

  function store(message) {
    var state = peerState(messagePeer(message));
    if (state.seen[message.seq]) { return false; }
    state.seen[message.seq] = true;
    state.messages.push(message);
    state.messages.sort(function (a, b) { return a.seq - b.seq; });
    return true;
  }

  function loadHistory(uid) {
    socket.emit("history", { peer: uid, limit: 100 }, function (ack) {
      if (!ack.ok) { return showError(ack); }
      ack.messages.forEach(store);
      if (uid === current) { render(); }
    });
  }

  function showError(ack) { setStatus(format(text.error, { message: ack.error.message })); }

  function enableComposer(enabled) {
    $("body").disabled = !enabled;
    $("send").disabled = !enabled;
    $("close").disabled = !enabled;
  }

  function select(uid) {
    if (current) { peerState(current).draft = $("body").value; }
    current = uid;
    var state = uid ? peerState(uid) : null;
    $("body").value = state ? state.draft : "";
    if (state) { state.unread = 0; }
    enableComposer(Boolean(state && state.conversation));
    render();
    if (cfg.role === "agent") { renderConversations(); }
  }

  function renderConversations() {
    var list = $("conversations");
    list.textContent = "";
    var active = Object.keys(peers).filter(function (uid) { return peers[uid].conversation; });
    if (!active.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = text.no_conversation;
      list.appendChild(empty);
    }
    active.forEach(function (uid) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.textContent = uid + " ";
      button.setAttribute("aria-current", String(uid === current));
      if (peers[uid].unread) {
        var badge = document.createElement("span");
        badge.className = "badge";
        badge.textContent = String(peers[uid].unread);
        button.appendChild(badge);
      }
      button.addEventListener("click", function () { select(uid); });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  function startConversation(conversation) {
    var uid = peerOf(conversation);
    peerState(uid).conversation = conversation;
    if (cfg.role === "customer") {
      setStatus(format(text.assigned, { agent: conversation.agent }));
      $("consult").disabled = true;
    }
    if (!current || cfg.role === "customer") { select(uid); } else { renderConversations(); }
    loadHistory(uid);
  }

  function endConversation(conversation) {
    var uid = peerOf(conversation);
    peerState(uid).conversation = null;
    if (uid === current) { enableComposer(false); }
    if (cfg.role === "customer") {
      setStatus(text.closed);
      $("consult").disabled = false;
    } else {
      renderConversations();
    }
  }

  var socket = io({ auth: { token: cfg.token, locale: cfg.locale }, transports: ["websocket", "polling"] });
  $("connection").textContent = text.connecting;

  socket.on("connect", function () {
    $("connection").textContent = text.connected;
    socket.emit("state", {}, function (ack) {
      if (!ack.ok) { return showError(ack); }
      ack.conversations.forEach(startConversation);
      if (cfg.role === "customer" && !ack.conversations.length) {
        setStatus(ack.position ? format(text.queued, { position: ack.position }) : text.idle);
        $("consult").disabled = Boolean(ack.position);
      }
      if (cfg.role === "agent") { showLoad(ack.agent, ack.queue_length); renderConversations(); }
    });
  });
  socket.on("disconnect", function () { $("connection").textContent = text.disconnected; });
  socket.on("connect_error", function (error) {
    $("connection").textContent = format(text.error, { message: (error.data && error.data.message) || error.message });
  });

  socket.on("assigned", function (data) { startConversation(data.conversation); });
  socket.on("closed", function (data) { endConversation(data.conversation); });
  socket.on("queued", function (data) { setStatus(format(text.queued, { position: data.position })); });
  socket.on("message", function (message) {
    var uid = messagePeer(message);
    var state = peerState(uid);
    var last = state.messages.length ? state.messages[state.messages.length - 1].seq : 0;
    if (!store(message)) { return; }
    if (last && message.seq > last + 1) { loadHistory(uid); }
    if (uid === current) { render(); } else { state.unread += 1; renderConversations(); }
  });
  socket.on("typing", function (data) {
    if (data.from !== current) { return; }
    $("typing").textContent = format(text.typing, { name: data.from });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { $("typing").textContent = ""; }, 3000);
  });

  function showLoad(agent, queueLength) {
    if (!agent) { return; }
    $("load").textContent = format(text.load, { load: agent.load, capacity: agent.capacity, queue: queueLength });
    $("available").checked = agent.available;
  }

  $("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = $("body").value;
    if (!body.trim() || !current) { return; }
    var clientId = cfg.uid + "-" + Date.now() + "-" + Math.random().toString(36).slice(2, 8);
    socket.emit("message", { to: current, body: body, client_msg_id: clientId }, function (ack) {
      if (!ack.ok) { return showError(ack); }
      if (store(ack.message)) { render(); }
    });
    $("body").value = "";
  });

  $("body").addEventListener("input", function () {
    var now = Date.now();
    if (current && now - lastTypingSent > 2000) {
      lastTypingSent = now;
      socket.emit("typing", { to: current }, function () {});
    }
  });

  $("close").addEventListener("click", function () {
    var payload = cfg.role === "agent" ? { peer: current } : {};
    socket.emit("close", payload, function (ack) { if (!ack.ok) { showError(ack); } });
  });

  if (cfg.role === "customer") {
    $("consult").addEventListener("click", function () {
      socket.emit("consult", {}, function (ack) {
        if (!ack.ok) { return showError(ack); }
        if (ack.status === "queued") {
          setStatus(format(text.queued, { position: ack.position }));
          $("consult").disabled = true;
        } else {
          startConversation(ack.conversation);
        }
      });
    });
  } else {
    $("available").addEventListener("change", function () {
      socket.emit("status", { available: $("available").checked }, function (ack) {
        if (!ack.ok) { return showError(ack); }
        $("available").checked = ack.agent.available;
      });
    });
  }
})();
