// The imflask agent console: the agent's conversations on the left, the
// selected one on the right. Each conversation keeps its own draft, and
// older history loads when the agent scrolls up. A new customer is announced
// in the page title and, where the browser permits, by a notification and a
// short tone. Every text from users is inserted with textContent.
(function (global) {
  "use strict";

  var imflask = global.imflask;
  var page = global.IMFLASK_CONSOLE;
  var strings = page.strings;
  var format = imflask.format;
  var TOKEN_KEY = "imflask:console:token";
  var TYPING_DISPLAY_MS = 4000;
  var ERROR_DISPLAY_MS = 8000;
  var END_CONFIRM_MS = 4000;
  var $ = function (id) { return document.getElementById(id); };

  var baseTitle = document.title;
  var selected = null;
  var drafts = {};
  var unseenAssignments = new Set();
  var typingTimer = null;
  var errorTimer = null;
  var endArmed = null;
  var loadingOlder = false;
  var audio = null;
  var clock = new Intl.DateTimeFormat(page.locale === "en" ? "en" : "zh-CN", { hour: "2-digit", minute: "2-digit" });

  // The token comes from #token=… (kept in this tab's sessionStorage for
  // reloads, then removed from the address bar), else from the stored one,
  // else from the page. The stored token wins over the page's so that two
  // tabs of one browser keep their own demo users across reloads.
  function readToken() {
    var fragment = new URLSearchParams(global.location.hash.slice(1));
    var token = fragment.get("token");
    if (token) {
      rememberToken(token);
      global.history.replaceState(null, "", global.location.pathname + global.location.search);
      return token;
    }
    var token = rememberedToken() || page.token;
    if (token) {
      rememberToken(token);
    }
    return token;
  }

  function rememberToken(token) {
    try {
      global.sessionStorage.setItem(TOKEN_KEY, token);
    } catch (error) {
      // Without storage a reload needs the token in the address again.
    }
  }

  function rememberedToken() {
    try {
      return global.sessionStorage.getItem(TOKEN_KEY);
    } catch (error) {
      return null;
    }
  }

  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  }

  function showNotice(text) {
    $("notice").textContent = text;
    $("notice").hidden = !text;
  }

  function showError(error) {
    var text = error.code === "offline" || error.code === "timeout" ? strings.offline : error.message || strings.offline;
    $("error").textContent = text;
    clearTimeout(errorTimer);
    errorTimer = setTimeout(function () { $("error").textContent = ""; }, ERROR_DISPLAY_MS);
  }

  var token = readToken();
  if (!token) {
    showNotice(strings.no_token);
    return;
  }

  var session = new imflask.ChatSession({ server: global.location.origin, token: token, locale: page.locale, io: global.io, role: "agent" });
  var view = new imflask.TimelineView($("messages"), {
    strings: strings, locale: page.locale, session: session, scroller: $("scroller"), describeSystem: describeSystem,
  });

  function describeSystem(message) {
    if (message.event === "started") {
      return format(strings.entry_started, { customer: session.nameOf(message.conversation.customer) });
    }
    if (message.event === "closed") { return strings["entry_closed_" + message.reason] || strings.ended_tag; }
    if (message.event === "rated" && message.rating) {
      var rating = message.rating;
      return rating.comment
        ? format(strings.entry_rated_comment, { score: rating.score, comment: rating.comment })
        : format(strings.entry_rated, { score: rating.score });
    }
    return null;
  }

  // -- conversation list ---------------------------------------------------

  function lastActivity(timeline) {
    var last = timeline.lastText();
    if (last) { return last.ts; }
    return timeline.conversation ? timeline.conversation.started_at : 0;
  }

  function orderedTimelines() {
    return Array.from(session.timelines.values())
      .filter(function (timeline) { return timeline.conversation; })
      .sort(function (a, b) {
        if (a.active !== b.active) { return a.active ? -1 : 1; }
        return lastActivity(b) - lastActivity(a);
      });
  }

  function renderList() {
    var list = $("conversations");
    var timelines = orderedTimelines();
    var focused = list.contains(document.activeElement) ? document.activeElement : null;
    var focusPeer = focused && focused.closest("li").dataset.peer;
    var focusClass = focused && focused.className;
    list.textContent = "";
    timelines.forEach(function (timeline) { list.appendChild(renderListItem(timeline)); });
    // The list is rebuilt on every change; keep the keyboard focus where it was.
    if (focused) {
      var again = Array.from(list.querySelectorAll("li")).find(function (item) { return item.dataset.peer === focusPeer; });
      var target = again && again.querySelector("." + focusClass.split(" ")[0]);
      if (target) { target.focus(); }
    }
    $("empty").hidden = timelines.some(function (timeline) { return timeline.active; });
    renderTitle();
  }

  function renderListItem(timeline) {
    var peer = timeline.peer;
    var name = session.nameOf(peer);
    var item = element("li", timeline.active ? "" : "ended");
    item.dataset.peer = peer;
    var open = element("button", "conv");
    open.type = "button";
    open.dataset.peer = peer;
    open.setAttribute("aria-current", String(peer === selected));

    var avatar = element("span", "avatar", Array.from(name)[0].toUpperCase());
    avatar.setAttribute("aria-hidden", "true");
    var main = element("span", "conv-main");
    var top = element("span", "conv-top");
    top.appendChild(element("span", "conv-name", name));
    var last = timeline.lastText();
    if (last) { top.appendChild(element("time", "conv-time", clock.format(new Date(last.ts * 1000)))); }
    main.append(top, element("span", "conv-last", last ? last.body : ""));
    open.append(avatar, main);

    if (timeline.unread) {
      var badge = element("span", "badge", String(timeline.unread));
      badge.setAttribute("aria-label", format(strings.unread, { count: timeline.unread }));
      open.appendChild(badge);
    }
    if (!timeline.active) { open.appendChild(element("span", "tag", strings.ended_tag)); }
    open.addEventListener("click", function () { select(peer); });
    item.appendChild(open);

    if (!timeline.active) {
      var dismiss = element("button", "dismiss", "\u00d7");
      dismiss.type = "button";
      dismiss.setAttribute("aria-label", strings.dismiss + ": " + name);
      dismiss.addEventListener("click", function () { forget(peer); });
      item.appendChild(dismiss);
    }
    return item;
  }

  function renderTitle() {
    var unread = 0;
    session.timelines.forEach(function (timeline) { unread += timeline.unread; });
    var count = unread + unseenAssignments.size;
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  }

  // -- selected conversation -----------------------------------------------

  function select(peer) {
    if (selected) { drafts[selected] = $("input").value; }
    selected = peer;
    unseenAssignments.delete(peer);
    session.write("drafts", drafts);
    view.clear();
    $("input").value = peer ? drafts[peer] || "" : "";
    hideTyping();
    disarmEnd();
    renderThread();
    view.scrollToEnd();
    if (peer) {
      markRead();
      $("input").focus();
    }
    renderList();
  }

  function forget(peer) {
    delete drafts[peer];
    session.write("drafts", drafts);
    session.forget(peer);
    if (selected === peer) { select(firstActive()); } else { renderList(); }
  }

  function firstActive() {
    var active = orderedTimelines().filter(function (timeline) { return timeline.active; });
    return active.length ? active[0].peer : null;
  }

  function renderThread() {
    var timeline = selected ? session.timeline(selected) : null;
    $("placeholder").hidden = Boolean(timeline);
    $("scroller").hidden = !timeline;
    $("composer").hidden = !(timeline && timeline.active);
    $("end").hidden = !(timeline && timeline.active);
    $("thread-title").textContent = timeline ? session.nameOf(selected) : "";
    if (!timeline) {
      $("thread-sub").textContent = "";
      return;
    }
    var sub = selected;
    if (timeline.conversation) { sub += " · " + clock.format(new Date(timeline.conversation.started_at * 1000)); }
    if (!timeline.active) { sub += " · " + strings.ended_tag; }
    $("thread-sub").textContent = sub;
    $("older").textContent = timeline.exhausted ? strings.history_start : "";
    view.render(timeline);
  }

  function markRead() {
    if (selected && document.visibilityState === "visible") { session.markRead(selected); }
  }

  function showTyping(from) {
    $("typing").textContent = format(strings.typing, { name: session.nameOf(from) });
    clearTimeout(typingTimer);
    typingTimer = setTimeout(hideTyping, TYPING_DISPLAY_MS);
  }

  function hideTyping() {
    clearTimeout(typingTimer);
    $("typing").textContent = "";
  }

  function sendDraft() {
    var body = $("input").value;
    if (!selected || !body.trim()) { return; }
    if (new TextEncoder().encode(body).length > page.max_message_bytes) {
      showError({ message: format(strings.too_long, { limit: page.max_message_bytes }) });
      return;
    }
    session.send(selected, body);
    $("input").value = "";
    drafts[selected] = "";
    session.write("drafts", drafts);
    view.scrollToEnd();
  }

  async function loadOlder() {
    var timeline = selected ? session.timeline(selected) : null;
    var scroller = $("scroller");
    if (!timeline || loadingOlder || timeline.exhausted || scroller.scrollTop > 60) { return; }
    loadingOlder = true;
    var peer = selected;
    $("older").textContent = strings.loading_older;
    var height = scroller.scrollHeight;
    await session.loadOlder(peer);
    if (peer === selected) { scroller.scrollTop += scroller.scrollHeight - height; }
    loadingOlder = false;
    if (peer === selected) { renderThread(); }
  }

  // Ending needs a second click within a few seconds.
  function onEndClick() {
    if (!endArmed) {
      endArmed = setTimeout(disarmEnd, END_CONFIRM_MS);
      $("end").textContent = strings.end_confirm_agent;
      $("end").classList.add("armed");
      return;
    }
    disarmEnd();
    session.close(selected).then(function (ack) { if (!ack.ok) { showError(ack.error); } });
  }

  function disarmEnd() {
    clearTimeout(endArmed);
    endArmed = null;
    $("end").textContent = strings.end_conversation;
    $("end").classList.remove("armed");
  }

  // -- agent status and alerts -----------------------------------------------

  function renderAgent() {
    var agent = session.agent;
    $("available").disabled = !agent || !session.connected;
    if (agent) {
      $("available").checked = agent.available;
      $("load").textContent = format(strings.load, { load: agent.load, capacity: agent.capacity });
      $("load").classList.toggle("full", agent.load >= agent.capacity);
    }
    if (session.queueLength !== null) {
      $("queue").textContent = format(strings.queue, { count: session.queueLength });
      $("queue").classList.toggle("waiting", session.queueLength > 0);
    }
  }

  function renderConnection(status) {
    var texts = { connected: strings.connected, connecting: strings.connecting, reconnecting: strings.reconnecting, rejected: strings.rejected };
    // Connected shows as a green dot; the other states spell themselves out.
    $("connection").textContent = status === "connected" ? "\u25cf" : texts[status];
    $("connection").dataset.status = status;
    $("connection").setAttribute("aria-label", texts[status]);
    renderAgent();
  }

  function setupAlerts() {
    var supported = "Notification" in global;
    $("alerts").hidden = !supported || global.Notification.permission !== "default";
    $("alerts").addEventListener("click", function () {
      global.Notification.requestPermission().then(function () { $("alerts").hidden = true; });
      unlockAudio();
    });
    document.addEventListener("pointerdown", unlockAudio, { once: true });
    document.addEventListener("keydown", unlockAudio, { once: true });
  }

  // Browsers let a page play sound only after the user interacted with it.
  function unlockAudio() {
    if (audio || !global.AudioContext) { return; }
    audio = new global.AudioContext();
  }

  function chime() {
    if (!audio || audio.state !== "running") { return; }
    var oscillator = audio.createOscillator();
    var gain = audio.createGain();
    oscillator.frequency.value = 880;
    gain.gain.setValueAtTime(0.12, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.4);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start();
    oscillator.stop(audio.currentTime + 0.4);
  }

  function announceAssignment(conversation) {
    var name = session.nameOf(conversation.customer);
    var text = format(strings.new_assignment, { name: name });
    $("announcer").textContent = text;
    chime();
    var hidden = document.visibilityState !== "visible" || !document.hasFocus();
    if (hidden && "Notification" in global && global.Notification.permission === "granted") {
      var note = new global.Notification(baseTitle, { body: text, tag: "imflask-" + conversation.id });
      note.onclick = function () { global.focus(); select(conversation.customer); note.close(); };
    }
  }

  // -- wiring --------------------------------------------------------------

  session.on("connection", function (status, error) {
    renderConnection(status);
    if (status === "rejected") { showNotice(error.message); }
  });
  session.on("state", function () {
    if (session.identity.role !== "agent") {
      showNotice(strings.not_agent);
      session.socket.disconnect();
      return;
    }
    $("me").textContent = session.nameOf(session.identity.uid);
    drafts = session.read("drafts") || drafts;
    if (!selected || !session.timelines.has(selected)) { select(firstActive()); }
    renderAgent();
    renderList();
    renderThread();
  });
  session.on("timeline", function (peer) {
    if (peer === selected) {
      renderThread();
      markRead();
    }
    renderList();
  });
  session.on("assigned", function (conversation) {
    unseenAssignments.add(conversation.customer);
    announceAssignment(conversation);
    if (!selected) { select(conversation.customer); }
    session.refreshAgent();
    renderList();
  });
  session.on("closed", function (conversation) {
    unseenAssignments.delete(conversation.customer);
    if (conversation.customer === selected) {
      hideTyping();
      renderThread();
    }
    session.refreshAgent();
    renderList();
  });
  session.on("message", function (peer, message, fromPeer) {
    if (fromPeer && peer === selected) { hideTyping(); }
  });
  session.on("typing", function (from) { if (from === selected) { showTyping(from); } });
  session.on("agent", renderAgent);
  session.on("queue_length", renderAgent);
  session.on("error", showError);

  $("composer").addEventListener("submit", function (event) { event.preventDefault(); sendDraft(); });
  $("input").addEventListener("keydown", function (event) {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      sendDraft();
    }
  });
  $("input").addEventListener("input", function () {
    if (selected) {
      drafts[selected] = $("input").value;
      if ($("input").value.trim()) { session.typing(selected); }
    }
  });
  $("input").addEventListener("change", function () { session.write("drafts", drafts); });
  $("scroller").addEventListener("scroll", loadOlder);
  $("end").addEventListener("click", onEndClick);
  $("available").addEventListener("change", function () {
    var requested = $("available").checked;
    session.setAvailable(requested).then(function (ack) {
      if (!ack.ok) {
        $("available").checked = !requested;
        showError(ack.error);
      }
    });
  });
  document.addEventListener("visibilitychange", function () {
    markRead();
    renderTitle();
  });
  global.addEventListener("focus", markRead);

  setupAlerts();
  renderConnection("connecting");
  renderThread();
  renderList();
  session.start();
})(window);
