// The imflask chat widget. A host page embeds it with one script tag and
//
//   imflask.init({ server: "https://chat.example.com", token: "<JWT>", locale: "en" });
//
// It loads its translated texts, the shared session script and the pinned
// socket.io-client from the imflask server, then draws a consult button
// and a chat window inside a shadow root, so the host page's styles do not
// leak in. docs/widget.md describes the options.
(function (global) {
  "use strict";

  var imflask = (global.imflask = global.imflask || {});
  var current = document.currentScript;
  var scriptOrigin = current && current.src ? new URL(current.src, global.location.href).origin : global.location.origin;
  var scripts = {};
  var ERROR_DISPLAY_MS = 8000;
  var TYPING_DISPLAY_MS = 4000;
  var SVG_NS = "http://www.w3.org/2000/svg";
  var ICON_CHAT = "M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z";
  var ICON_CLOSE = "M6 6l12 12M18 6L6 18";
  var ICON_SEND = "M3 20l18-8L3 4v6l12 2-12 2z";

  function loadScript(url) {
    if (!scripts[url]) {
      scripts[url] = new Promise(function (resolve, reject) {
        var tag = document.createElement("script");
        tag.src = url;
        tag.async = true;
        tag.onload = function () { resolve(); };
        tag.onerror = function () { reject(new Error("imflask: could not load " + url)); };
        document.head.appendChild(tag);
      });
    }
    return scripts[url];
  }

  // Load the pinned socket.io-client and give the host page back any `io`
  // global it had before, so a host using another version keeps its own.
  async function loadSocketIo(server) {
    if (imflask.io) { return imflask.io; }
    var hostIo = global.io;
    await loadScript(server + "/vendor/socket.io.min.js");
    imflask.io = global.io;
    if (hostIo) { global.io = hostIo; }
    if (typeof imflask.io !== "function") { throw new Error("imflask: the Socket.IO client did not load"); }
    return imflask.io;
  }

  async function fetchConfig(server, locale) {
    var url = server + "/widget/config.json" + (locale ? "?locale=" + encodeURIComponent(locale) : "");
    var response = await fetch(url, { credentials: "omit" });
    if (!response.ok) { throw new Error("imflask: loading " + url + " failed with HTTP " + response.status); }
    return response.json();
  }

  function element(tag, className, attributes) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    Object.keys(attributes || {}).forEach(function (name) { node.setAttribute(name, attributes[name]); });
    return node;
  }

  function icon(path) {
    var svg = document.createElementNS(SVG_NS, "svg");
    svg.setAttribute("viewBox", "0 0 24 24");
    svg.setAttribute("aria-hidden", "true");
    svg.setAttribute("focusable", "false");
    var shape = document.createElementNS(SVG_NS, "path");
    shape.setAttribute("d", path);
    svg.appendChild(shape);
    return svg;
  }

  function button(className, label, attributes) {
    var node = element("button", className, Object.assign({ type: "button" }, attributes || {}));
    if (label) { node.textContent = label; }
    return node;
  }

  class Widget {
    constructor(options) {
      this.server = String(options.server || scriptOrigin).replace(/\/+$/, "");
      this.token = options.token;
      this.requestedLocale = options.locale || null;
      this.container = options.container || document.body;
      this.startOpen = Boolean(options.open);
      this.destroyed = false;
      this.ui = {};
      this.prefs = { open: false, unread: 0, lastPeer: null, rating: null, rated: false };
      this.confirming = false;
      this.typingTimer = null;
      this.errorTimer = null;
    }

    async boot() {
      var loaded = await Promise.all([
        fetchConfig(this.server, this.requestedLocale),
        imflask.ChatSession ? null : loadScript(this.server + "/widget/session.js"),
        loadSocketIo(this.server),
      ]);
      if (this.destroyed) { return; }

      var config = loaded[0];
      this.strings = config.strings;
      this.locale = config.locale;
      this.maxBytes = config.max_message_bytes;
      this.session = new imflask.ChatSession({
        server: this.server, token: this.token, locale: this.locale, io: loaded[2], role: "customer",
      });
      await this.build();
      this.loadPrefs();
      this.bindSession();
      this.render();
      this.session.start();
      if (this.startOpen || this.prefs.open) { this.setOpen(true, false); }
    }

    // -- DOM ----------------------------------------------------------------

    async build() {
      var strings = this.strings;
      this.host = element("div", null, { id: "imflask-widget" });
      var shadow = this.host.attachShadow({ mode: "open" });
      var stylesheet = element("link", null, { rel: "stylesheet", href: this.server + "/widget/widget.css" });
      var root = (this.ui.root = element("div", "imf", { lang: this.locale === "en" ? "en" : "zh-CN", "data-view": "idle" }));
      root.hidden = true;
      shadow.append(stylesheet, root);

      var launcher = (this.ui.launcher = button("launcher", null, { "aria-expanded": "false", "aria-controls": "imf-window" }));
      launcher.append(icon(ICON_CHAT), icon(ICON_CLOSE));
      var badge = (this.ui.badge = element("span", "badge", { "aria-hidden": "true" }));
      badge.hidden = true;
      launcher.appendChild(badge);

      var windowNode = (this.ui.window = element("section", "window", { id: "imf-window", role: "dialog", "aria-labelledby": "imf-title" }));
      windowNode.hidden = true;
      windowNode.append(this.buildHeader(), this.buildBanner(), this.buildConfirm());

      var log = (this.ui.log = element("ol", "messages", { role: "log", "aria-live": "polite", "aria-label": strings.messages_label, tabindex: "0" }));
      this.view = new imflask.TimelineView(log, {
        strings: strings, locale: this.locale, session: this.session, describeSystem: this.describeSystem.bind(this),
      });
      var typing = (this.ui.typing = element("p", "typing", { "aria-live": "polite" }));
      var alert = (this.ui.error = element("p", "error", { role: "alert" }));
      windowNode.append(log, typing, this.buildPanel(), this.buildComposer(), alert);
      root.append(windowNode, launcher);

      this.container.appendChild(this.host);
      await new Promise(function (resolve) {
        stylesheet.onload = stylesheet.onerror = resolve;
        setTimeout(resolve, 3000);
      });
      root.hidden = false;
      this.bindDom();
    }

    buildHeader() {
      var strings = this.strings;
      var header = element("header", "header");
      var avatar = (this.ui.avatar = element("span", "avatar", { "aria-hidden": "true" }));
      var titles = element("div", "titles");
      var title = element("h2", "title", { id: "imf-title" });
      title.textContent = strings.title;
      var subtitle = (this.ui.subtitle = element("p", "subtitle", { "aria-live": "polite" }));
      titles.append(title, subtitle);
      this.ui.end = button("end", strings.end_conversation);
      this.ui.minimize = button("minimize", null, { "aria-label": strings.minimize });
      this.ui.minimize.appendChild(icon(ICON_CLOSE));
      header.append(avatar, titles, this.ui.end, this.ui.minimize);
      return header;
    }

    buildBanner() {
      var banner = (this.ui.banner = element("p", "banner", { role: "status" }));
      banner.hidden = true;
      return banner;
    }

    buildConfirm() {
      var strings = this.strings;
      var bar = (this.ui.confirm = element("div", "confirm", { role: "group", "aria-label": strings.end_confirm }));
      var question = element("span");
      question.textContent = strings.end_confirm;
      this.ui.confirmYes = button("danger", strings.end_yes);
      this.ui.confirmNo = button("plain", strings.end_no);
      bar.append(question, this.ui.confirmYes, this.ui.confirmNo);
      bar.hidden = true;
      return bar;
    }

    buildPanel() {
      var strings = this.strings;
      var panel = (this.ui.panel = element("div", "panel"));

      var idle = (this.ui.idle = element("div", "card idle"));
      var welcome = element("p");
      welcome.textContent = strings.welcome;
      this.ui.consult = button("primary", strings.consult);
      idle.append(welcome, this.ui.consult);

      var queued = (this.ui.queued = element("div", "card queued"));
      this.ui.position = element("p", "position");
      var wait = element("p", "hint");
      wait.textContent = strings.queue_hint;
      this.ui.leave = button("plain", strings.leave_queue);
      queued.append(this.ui.position, wait, this.ui.leave);

      var ended = (this.ui.ended = element("div", "card ended"));
      this.ui.endedText = element("p");
      this.ui.restart = button("primary", strings.new_conversation);
      ended.append(this.ui.endedText, this.ui.restart);

      panel.append(idle, queued, this.buildRating(), ended);
      return panel;
    }

    buildRating() {
      var strings = this.strings;
      var form = (this.ui.rating = element("form", "card rating"));
      var fieldset = element("fieldset", "stars");
      this.ui.ratingQuestion = element("legend");
      fieldset.appendChild(this.ui.ratingQuestion);
      this.ui.stars = [];
      for (var score = 1; score <= 5; score += 1) {
        var label = element("label", "star");
        var input = element("input", null, { type: "radio", name: "score", value: String(score) });
        var glyph = element("span", null, { "aria-hidden": "true" });
        glyph.textContent = "\u2605";
        var text = element("span", "sr-only");
        text.textContent = imflask.format(strings.score_label, { score: score });
        label.append(input, glyph, text);
        fieldset.appendChild(label);
        this.ui.stars.push(label);
      }
      var commentLabel = element("label", "comment");
      var commentText = element("span");
      commentText.textContent = strings.comment_label;
      this.ui.comment = element("textarea", null, { maxlength: "500", rows: "2" });
      commentLabel.append(commentText, this.ui.comment);
      var actions = element("div", "actions");
      this.ui.submitRating = element("button", "primary", { type: "submit" });
      this.ui.submitRating.textContent = strings.submit_rating;
      this.ui.skipRating = button("plain", strings.skip_rating);
      actions.append(this.ui.submitRating, this.ui.skipRating);
      form.append(fieldset, commentLabel, actions);
      return form;
    }

    buildComposer() {
      var strings = this.strings;
      var form = (this.ui.composer = element("form", "composer"));
      this.ui.input = element("textarea", null, { rows: "1", "aria-label": strings.message_label, placeholder: strings.placeholder, enterkeyhint: "send" });
      this.ui.send = element("button", "send", { type: "submit", "aria-label": strings.send });
      this.ui.send.appendChild(icon(ICON_SEND));
      form.append(this.ui.input, this.ui.send);
      return form;
    }

    bindDom() {
      var widget = this;
      var ui = this.ui;
      ui.launcher.addEventListener("click", function () { widget.setOpen(!widget.prefs.open, true); });
      ui.minimize.addEventListener("click", function () { widget.setOpen(false, true); });
      ui.window.addEventListener("keydown", function (event) { widget.onKeydown(event); });
      // A button that re-renders away leaves focus on the page body; Escape
      // there still closes the open window, but never leaves a host page's field.
      document.addEventListener("keydown", function (event) {
        var idle = !document.activeElement || document.activeElement === document.body;
        if (idle && widget.prefs.open) { widget.onKeydown(event); }
      });
      ui.consult.addEventListener("click", function () { widget.consult(); });
      ui.restart.addEventListener("click", function () { widget.consult(); });
      ui.leave.addEventListener("click", function () { widget.endConversation(); });
      ui.end.addEventListener("click", function () { widget.askToEnd(true); });
      ui.confirmNo.addEventListener("click", function () { widget.askToEnd(false); });
      ui.confirmYes.addEventListener("click", function () { widget.askToEnd(false); widget.endConversation(); });
      ui.composer.addEventListener("submit", function (event) { event.preventDefault(); widget.sendDraft(); });
      ui.input.addEventListener("keydown", function (event) {
        // Enter sends and Shift+Enter adds a line. An Enter that confirms an IME candidate does neither.
        if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
          event.preventDefault();
          widget.sendDraft();
        }
      });
      ui.input.addEventListener("input", function () {
        widget.autoGrow();
        var peer = widget.activePeer();
        if (peer && ui.input.value.trim()) { widget.session.typing(peer); }
      });
      ui.rating.addEventListener("change", function () { widget.paintStars(); });
      ui.rating.addEventListener("submit", function (event) { event.preventDefault(); widget.submitRating(); });
      ui.skipRating.addEventListener("click", function () { widget.finishRating(false); });
      ui.log.addEventListener("scroll", function () { widget.onScroll(); });
    }

    bindSession() {
      var widget = this;
      var session = this.session;
      session.on("connection", function (status, error) {
        if (status === "rejected") { widget.showError(error.message); }
        widget.render();
      });
      session.on("state", function () {
        widget.loadPrefs();
        widget.render();
      });
      session.on("timeline", function (peer) { if (peer === widget.shownPeer()) { widget.renderTimeline(); } });
      session.on("queued", function () { widget.render(); });
      session.on("assigned", function (conversation) {
        widget.prefs.lastPeer = conversation.agent;
        widget.prefs.rating = null;
        widget.prefs.rated = false;
        widget.savePrefs();
        widget.render();
      });
      session.on("closed", function (conversation, reason) { widget.onClosed(conversation, reason); });
      session.on("message", function (peer, message, fromPeer) {
        if (!fromPeer) { return; }
        widget.hideTyping();
        if (widget.prefs.open) {
          session.markRead(peer);
        } else {
          widget.prefs.unread += 1;
          widget.savePrefs();
          widget.renderBadge();
        }
      });
      session.on("typing", function (from) { if (from === widget.activePeer()) { widget.showTyping(from); } });
      session.on("error", function (error) { widget.showError(widget.errorText(error)); });
    }

    // -- state --------------------------------------------------------------

    loadPrefs() {
      if (!this.session.namespace) { return; }
      var saved = this.session.read("widget");
      if (saved) { this.prefs = Object.assign(this.prefs, saved); }
    }

    savePrefs() {
      if (this.session.namespace) { this.session.write("widget", this.prefs); }
    }

    activePeer() {
      var active = null;
      this.session.timelines.forEach(function (timeline) { if (timeline.active) { active = timeline.peer; } });
      return active;
    }

    shownPeer() { return this.activePeer() || this.prefs.lastPeer; }

    viewName() {
      var session = this.session;
      if (this.activePeer()) { return "chat"; }
      if (session.position) { return "queued"; }
      if (this.prefs.rating) { return "rating"; }
      if (this.prefs.lastPeer && this.session.timelines.has(this.prefs.lastPeer)) { return "ended"; }
      return "idle";
    }

    onClosed(conversation, reason) {
      if (reason === "agent_lost") {
        // The server puts this customer back at the head of the queue.
        this.render();
        return;
      }
      this.prefs.lastPeer = conversation.agent;
      this.prefs.rating = { conversation: conversation.id, peer: conversation.agent };
      this.prefs.rated = false;
      this.savePrefs();
      this.askToEnd(false);
      this.hideTyping();
      this.render();
      if (this.prefs.open) { this.focusPrimary(); }
    }

    // -- actions ------------------------------------------------------------

    async consult() {
      this.ui.consult.disabled = this.ui.restart.disabled = true;
      var ack = await this.session.consult();
      this.ui.consult.disabled = this.ui.restart.disabled = false;
      if (!ack.ok) { this.showError(this.errorText(ack.error)); return; }
      this.prefs.rating = null;
      this.prefs.rated = false;
      this.savePrefs();
      this.render();
      this.focusPrimary();
    }

    askToEnd(show) {
      this.confirming = show;
      this.ui.confirm.hidden = !show;
      if (show) { this.ui.confirmYes.focus(); }
    }

    async endConversation() {
      var ack = await this.session.close(this.activePeer());
      if (!ack.ok) { this.showError(this.errorText(ack.error)); return; }
      if (this.session.position) {
        this.session.position = null;
        this.render();
      }
    }

    sendDraft() {
      var peer = this.activePeer();
      var body = this.ui.input.value;
      if (!peer || !body.trim()) { return; }
      if (new TextEncoder().encode(body).length > this.maxBytes) {
        this.showError(imflask.format(this.strings.too_long, { limit: this.maxBytes }));
        return;
      }
      this.session.send(peer, body);
      this.ui.input.value = "";
      this.autoGrow();
      this.view.scrollToEnd();
    }

    async submitRating() {
      var checked = this.ui.rating.querySelector("input[name=score]:checked");
      if (!checked) {
        this.showError(this.strings.choose_score);
        this.ui.stars[0].querySelector("input").focus();
        return;
      }
      var rating = this.prefs.rating;
      this.ui.submitRating.disabled = true;
      var ack = await this.session.rate(rating.peer, rating.conversation, Number(checked.value), this.ui.comment.value.trim());
      this.ui.submitRating.disabled = false;
      if (!ack.ok) { this.showError(this.errorText(ack.error)); return; }
      this.finishRating(true);
    }

    finishRating(rated) {
      this.prefs.rating = null;
      this.prefs.rated = rated;
      this.savePrefs();
      this.ui.rating.reset();
      this.paintStars();
      this.render();
      this.focusPrimary();
    }

    setOpen(open, byUser) {
      if (!this.view) {
        this.startOpen = open;
        return;
      }
      this.prefs.open = open;
      if (open) {
        this.prefs.unread = 0;
        var peer = this.shownPeer();
        if (peer) { this.session.markRead(peer); }
      }
      this.savePrefs();
      this.render();
      if (open) {
        this.view.scrollToEnd();
        if (byUser) { this.focusPrimary(); }
      } else if (byUser) {
        this.ui.launcher.focus();
      }
    }

    onKeydown(event) {
      if (event.key !== "Escape") { return; }
      event.stopPropagation();
      if (this.confirming) {
        this.askToEnd(false);
        this.ui.end.focus();
      } else {
        this.setOpen(false, true);
      }
    }

    async onScroll() {
      var peer = this.shownPeer();
      var list = this.view.list;
      if (!peer || this.loadingOlder || list.scrollTop > 40 || !this.session.timeline(peer).active) { return; }
      this.loadingOlder = true;
      var height = list.scrollHeight;
      var added = await this.session.loadOlder(peer);
      if (added) { list.scrollTop += list.scrollHeight - height; }
      this.loadingOlder = false;
    }

    focusPrimary() {
      var targets = { chat: this.ui.input, queued: this.ui.leave, rating: this.ui.stars[0].querySelector("input"), ended: this.ui.restart, idle: this.ui.consult };
      var target = targets[this.viewName()];
      if (target && this.prefs.open) { target.focus(); }
    }

    // -- rendering ----------------------------------------------------------

    render() {
      if (!this.ui.root) { return; }
      var ui = this.ui;
      var strings = this.strings;
      var view = this.viewName();
      var open = this.prefs.open;
      ui.root.dataset.view = view;
      ui.root.dataset.open = String(open);
      ui.window.hidden = !open;
      ui.launcher.setAttribute("aria-expanded", String(open));
      ui.launcher.setAttribute("aria-label", open ? strings.minimize : strings.open_chat);

      ui.idle.hidden = view !== "idle";
      ui.queued.hidden = view !== "queued";
      ui.rating.hidden = view !== "rating";
      ui.ended.hidden = view !== "ended";
      ui.composer.hidden = view !== "chat";
      ui.end.hidden = view !== "chat";
      if (view !== "chat") { this.askToEnd(false); }

      this.renderHeader(view);
      this.renderBanner();
      this.renderBadge();
      this.renderTimeline();
    }

    renderHeader(view) {
      var strings = this.strings;
      var peer = this.shownPeer();
      var name = peer ? this.session.nameOf(peer) : "";
      var texts = {
        chat: imflask.format(strings.chatting_with, { agent: name }),
        queued: imflask.format(strings.queued, { position: this.session.position }),
        rating: strings.ended,
        ended: strings.ended,
        idle: strings.subtitle,
      };
      this.ui.subtitle.textContent = texts[view];
      this.ui.avatar.textContent = view === "chat" && name ? Array.from(name)[0].toUpperCase() : "";
      this.ui.avatar.hidden = !this.ui.avatar.textContent;
      this.ui.position.textContent = texts.queued;
      this.ui.ratingQuestion.textContent = imflask.format(strings.rating_question, { agent: name });
      this.ui.endedText.textContent = this.prefs.rated ? strings.thanks : strings.ended;
    }

    renderBanner() {
      var status = this.session.connection;
      var texts = { connecting: this.strings.connecting, reconnecting: this.strings.reconnecting, rejected: this.strings.rejected };
      this.ui.banner.textContent = texts[status] || "";
      this.ui.banner.hidden = !texts[status];
      this.ui.root.dataset.connection = status;
    }

    renderBadge() {
      var count = this.prefs.open ? 0 : this.prefs.unread;
      this.ui.badge.hidden = !count;
      this.ui.badge.textContent = count > 99 ? "99+" : String(count);
      if (!this.prefs.open) {
        this.ui.launcher.setAttribute("aria-label", count ? imflask.format(this.strings.open_chat_unread, { count: count }) : this.strings.open_chat);
      }
    }

    renderTimeline() {
      var peer = this.shownPeer();
      if (!peer || !this.session.timelines.has(peer)) {
        this.view.clear();
        return;
      }
      if (this.view.peer !== peer) {
        this.view.clear();
        this.view.peer = peer;
      }
      this.view.render(this.session.timeline(peer));
      if (this.prefs.open) { this.session.timeline(peer).unread = 0; }
    }

    describeSystem(message) {
      var strings = this.strings;
      var agent = this.session.nameOf(message.conversation.agent);
      if (message.event === "started") { return imflask.format(strings.entry_started, { agent: agent }); }
      if (message.event === "closed") { return strings["entry_closed_" + message.reason] || strings.ended; }
      if (message.event === "rated" && message.rating) { return imflask.format(strings.entry_rated, { score: message.rating.score }); }
      return null;
    }

    paintStars() {
      var checked = this.ui.rating.querySelector("input[name=score]:checked");
      var score = checked ? Number(checked.value) : 0;
      this.ui.stars.forEach(function (label, index) { label.classList.toggle("on", index < score); });
    }

    autoGrow() {
      var input = this.ui.input;
      input.style.height = "auto";
      input.style.height = Math.min(input.scrollHeight, 120) + "px";
    }

    showTyping(from) {
      var ui = this.ui;
      ui.typing.textContent = imflask.format(this.strings.typing, { name: this.session.nameOf(from) });
      clearTimeout(this.typingTimer);
      this.typingTimer = setTimeout(this.hideTyping.bind(this), TYPING_DISPLAY_MS);
    }

    hideTyping() {
      clearTimeout(this.typingTimer);
      this.ui.typing.textContent = "";
    }

    errorText(error) {
      if (error.code === "offline" || error.code === "timeout") { return this.strings.offline; }
      return error.message || this.strings.offline;
    }

    showError(text) {
      var node = this.ui.error;
      node.textContent = text || "";
      clearTimeout(this.errorTimer);
      this.errorTimer = setTimeout(function () { node.textContent = ""; }, ERROR_DISPLAY_MS);
    }

    destroy() {
      this.destroyed = true;
      if (this.session && this.session.socket) { this.session.socket.disconnect(); }
      if (this.host) { this.host.remove(); }
    }
  }

  // Start the widget; a second call replaces the first widget.
  imflask.init = function (options) {
    if (!options || !options.token) { throw new Error("imflask.init: the token option is required"); }
    if (imflask.widget) { imflask.widget.destroy(); }
    var widget = (imflask.widget = new Widget(options));
    var ready = widget.boot();
    ready.catch(function (error) { global.console.error(error); });
    return {
      ready: ready,
      open: function () { widget.setOpen(true, false); },
      close: function () { widget.setOpen(false, false); },
      destroy: function () { widget.destroy(); },
    };
  };
})(window);
