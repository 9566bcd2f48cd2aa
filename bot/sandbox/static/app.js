// The sandbox page: polls /sandbox/page/state, draws channels, messages, threads and modals,
// and sends what the acting user does to /sandbox/act/* (slash commands, clicks, submissions).
"use strict";

(function () {
  const { el, mrkdwn, blocks, emojify, setEmoji } = window.TocsinRender;
  const { escapeMentions, attachCompletion } = window.TocsinComposer;
  const POLL_MS = 700;
  const $ = (id) => document.getElementById(id);
  const ui = {
    user: null, channel: null, tab: "messages", state: null, seen: {}, known: null, expanded: new Set(),
    drafts: {}, signature: "", modal: null, modalKey: "", modalErrors: "",
  };

  async function call(path, body) {
    const response = await fetch(path, body === undefined ? {} : {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok || data.ok === false) {
      toast(data.error || `HTTP ${response.status}`, "error");
      throw new Error(data.error || response.status);
    }
    return data;
  }

  function toast(text, kind) {
    const node = el("div", { className: `toast toast-${kind || "info"}`, testid: "toast", text });
    $("toasts").append(node);
    setTimeout(() => node.remove(), 6000);
  }

  function ctx() {
    const s = ui.state;
    const byId = (list) => Object.fromEntries(list.map((x) => [x.id, x]));
    return {
      users: byId(s.users), channels: byId(s.channels), usergroups: byId(s.usergroups),
      userList: s.users, channelList: s.channels,
    };
  }

  const name = (id) => {
    const user = ui.state.users.find((u) => u.id === id);
    return user ? user.real_name : id;
  };

  // -- sidebar --------------------------------------------------------------------------

  function sidebar() {
    const s = ui.state;
    $("team-name").textContent = s.team.name;
    const status = $("app-status");
    status.textContent = s.app.ready ? `App: ${s.app.url}` : "No app connected: commands and clicks need the bot's request URL";
    status.className = `app-status ${s.app.ready ? "ok" : "off"}`;
    const select = $("acting-user");
    if (!select.options.length) {
      for (const u of s.users.filter((u) => !u.is_bot)) select.append(el("option", { value: u.id, text: `${u.real_name} (@${u.name})` }));
      select.value = ui.user;
    }
    if (ui.known === null) ui.known = new Set(s.channels.map((c) => c.id));
    const item = (id, label, count, extra) => {
      if (id === ui.channel || ui.seen[id] === undefined) ui.seen[id] = count;
      const unread = count - ui.seen[id];
      return el("li", {
        className: `nav-item ${id === ui.channel ? "active" : ""} ${unread > 0 ? "unread" : ""} ${extra.className || ""}`,
        testid: `nav-${extra.key}`, "data-channel": id, onclick: () => select_(id),
      }, el("span", { className: "nav-label", text: label }),
      extra.isNew ? el("span", { className: "tag-new", testid: "new-marker", text: "new" }) : null,
      unread > 0 ? el("span", { className: "badge", testid: "unread-marker", text: String(unread) }) : null);
    };
    $("channel-list").replaceChildren(...s.channels.map((c) => item(c.id,
      `${c.is_private ? "🔒" : "#"} ${c.name}`, c.message_count,
      { key: c.name, isNew: !ui.known.has(c.id), className: c.members.includes(ui.user) ? "" : "not-member" })));
    // Only the acting user's DMs, as in Slack; the app's own is keyed by the acting user.
    $("dm-list").replaceChildren(...s.dms.map((d) => item(d.channel,
      d.app ? s.bot.real_name : name(d.user), d.message_count,
      { key: `dm-${d.app ? ui.user : d.user}`, className: d.app ? "app" : "" })));
  }

  function select_(channelId) {
    ui.channel = channelId;
    ui.tab = "messages";
    ui.known.add(channelId);
    ui.signature = "";
    refresh();
  }

  // The app's DM has two tabs, as in Slack: Home (what the app published) and Messages.
  function appDm() {
    return ui.state.dms.find((d) => d.app && d.channel === ui.channel);
  }

  function showTab(tab) {
    ui.tab = tab;
    ui.signature = "";
    if (tab === "home" && ui.state.app.ready) act("home", {}); else refresh();
  }

  // -- messages -------------------------------------------------------------------------

  function time(ts) {
    return new Date(parseFloat(ts) * 1000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
  }

  function avatar(userId, isBot) {
    const label = isBot ? "T" : name(userId).slice(0, 1).toUpperCase();
    const hue = [...userId].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 360, 7);
    return el("div", { className: `avatar ${isBot ? "bot" : ""}`, style: `--hue:${hue}`, text: label });
  }

  function content(message, c) {
    const box = el("div", { className: "content" });
    box.append(message.blocks && message.blocks.length ? blocks(message.blocks, c) : mrkdwn(message.text, c));
    for (const a of message.attachments || []) {
      box.append(el("div", { className: "attachment", style: a.color ? `border-color:${a.color.startsWith("#") ? a.color : "#" + a.color}` : null },
        a.title ? el("strong", { text: a.title }) : null, a.text ? mrkdwn(a.text, c) : null, a.blocks ? blocks(a.blocks, c) : null));
    }
    return box;
  }

  function messageNode(m, c, inThread) {
    const isBot = m.bot || m.ephemeral;
    const author = isBot ? (m.ephemeral ? "Tocsin" : m.username || "Tocsin") : name(m.user);
    const clickCtx = { ...c, onAction: (element, value) => click(m, element, value) };
    const node = el("div", { className: `message ${m.ephemeral ? "ephemeral" : ""} ${m.pinned ? "pinned" : ""}`,
      testid: m.ephemeral ? "ephemeral" : inThread ? "reply" : "message", "data-ts": m.ts },
      avatar(m.user || "", isBot),
      el("div", { className: "message-body" },
        el("div", { className: "meta" },
          el("span", { className: "author", text: author }),
          isBot ? el("span", { className: "app-badge", text: "APP" }) : null,
          el("span", { className: "time", text: time(m.ts) }),
          m.edited ? el("span", { className: "edited", text: "(edited)" }) : null,
          m.pinned ? el("span", { className: "pin", testid: "pinned-marker", text: "📌 Pinned" }) : null,
          m.ephemeral ? el("span", { className: "only-you", text: "Only visible to you" }) : null,
          m.reply_broadcast ? el("span", { className: "edited", text: "replied to a thread" }) : null,
          inThread || m.ephemeral || (m.replies || []).length || ui.expanded.has(m.ts) ? null
            : el("button", { type: "button", className: "link-btn reply-btn", testid: "reply-start",
              text: "Reply in thread", onclick: () => toggle(m.ts) })),
        content(m, clickCtx),
        (m.files || []).length ? el("div", { className: "files" }, m.files.map((f) => el("span", { className: "file", text: `📎 ${f.title || f.name}` }))) : null,
        Object.keys(m.reactions || {}).length ? el("div", { className: "reactions" },
          Object.entries(m.reactions).map(([r, users]) => el("span", { className: "reaction", text: `${emojify(`:${r}:`)} ${users.length}` }))) : null,
        inThread ? null : thread(m, c)));
    return node;
  }

  function thread(m, c) {
    const replies = m.replies || [];
    const open = ui.expanded.has(m.ts);
    if (!replies.length && !open) return null;
    const box = el("div", { className: "thread" },
      el("button", { type: "button", className: "link-btn", testid: "thread-toggle", onclick: () => toggle(m.ts),
        text: open ? "Hide replies" : `${replies.length} ${replies.length === 1 ? "reply" : "replies"}` }));
    if (open) {
      const list = el("div", { className: "replies", testid: "replies" }, replies.map((r) => messageNode(r, c, true)));
      const input = el("input", { className: "reply-input", testid: "reply-input", placeholder: "Reply…", "data-thread": m.ts });
      input.value = ui.drafts[m.ts] || "";
      input.addEventListener("input", () => { ui.drafts[m.ts] = input.value; });
      input.addEventListener("keydown", (event) => {
        if (event.key !== "Enter" || !input.value.trim()) return;
        post(input.value, m.ts);
        ui.drafts[m.ts] = "";
        input.value = "";
      });
      box.append(list, input);
    }
    return box;
  }

  function toggle(ts) {
    if (ui.expanded.has(ts)) ui.expanded.delete(ts); else ui.expanded.add(ts);
    ui.signature = "";
    draw();
  }

  function home() {
    const view = ui.state.home;
    const signature = JSON.stringify(["home", ui.user, view]);
    if (signature === ui.signature) return;
    ui.signature = signature;
    const c = { ...ctx(), onAction: (element, value) => act("click", { view_id: view.id, action_id: element.action_id, value }) };
    $("messages").replaceChildren(view
      ? el("div", { className: "home", testid: "home" }, blocks(view.blocks, c))
      : el("div", { className: "empty", testid: "home", text: "The app has not published a Home tab for you yet." }));
  }

  function messages() {
    const s = ui.state;
    const list = [...s.messages, ...s.ephemerals.map((e) => ({ ...e, ephemeral: true }))]
      .sort((a, b) => parseFloat(a.ts) - parseFloat(b.ts));
    const signature = JSON.stringify([ui.channel, ui.user, list, [...ui.expanded]]);
    if (signature === ui.signature) return;
    ui.signature = signature;
    const pane = $("messages");
    const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
    const focused = document.activeElement && document.activeElement.dataset.thread;
    const c = ctx();
    pane.replaceChildren(...(list.length ? list.map((m) => messageNode(m, c, false))
      : [el("div", { className: "empty", text: "No messages yet." })]));
    if (atBottom) pane.scrollTop = pane.scrollHeight;
    if (focused) { const again = pane.querySelector(`[data-thread="${focused}"]`); if (again) again.focus(); }
  }

  function header() {
    const ch = ui.state.channel;
    const dm = ui.state.dms.find((d) => d.channel === ui.channel);
    const who = dm ? (dm.app ? ui.state.bot.real_name : name(dm.user)) : "";
    $("channel-title").textContent = !ch ? "" : dm ? who : `#${ch.name}`;
    $("channel-topic").replaceChildren(ch && ch.topic ? mrkdwn(ch.topic, ctx()) : "");
    $("composer-input").placeholder = ch ? `Message ${dm ? who : "#" + ch.name}, or /incident …` : "";
    const tabs = $("tabs");
    tabs.hidden = !appDm();
    for (const button of tabs.querySelectorAll("[data-tab]")) button.classList.toggle("active", button.dataset.tab === ui.tab);
    $("composer").hidden = !!appDm() && ui.tab === "home";
    details(ch, dm);
  }

  function details(ch, dm) {
    if (!ch) return $("details").replaceChildren();
    const section = (title, ...body) => el("section", { className: "detail" }, el("h3", { text: title }), ...body);
    const c = ctx();
    $("details").replaceChildren(...[
      section("About", ch.purpose ? mrkdwn(ch.purpose, c) : el("span", { className: "muted", text: dm ? "Direct messages with the bot" : "No purpose set" })),
      section(`Members (${ch.members.length})`, el("ul", { className: "members" }, ch.members.map((id) => el("li", { text: name(id) })))),
      section("Pinned", ch.pins.length ? el("ul", { className: "pins", testid: "pins" }, ch.pins.map((p) => el("li", {}, mrkdwn(p.text, c))))
        : el("span", { className: "muted", text: "Nothing pinned" })),
      ch.bookmarks.length ? section("Bookmarks", el("ul", {}, ch.bookmarks.map((b) => el("li", {},
        el("a", { href: /^https?:/.test(b.link) ? b.link : null, target: "_blank", rel: "noopener noreferrer", text: b.title }))))) : null,
      (ui.state.automation || []).length ? section("Automation receiver", el("ul", { testid: "automation" },
        ui.state.automation.slice().reverse().map((a) => el("li", {
          text: `${a.signed ? "✓ signed" : "✗ " + a.problem} · ${a.name} · HTTP ${a.status}${a.effect ? " · ran" : a.status === 200 ? " · repeat (no effect)" : ""}`,
        })))) : null,
    ].filter(Boolean));
  }

  // -- modal ----------------------------------------------------------------------------

  function modal() {
    const entry = ui.state.modal;
    const key = entry ? `${entry.id}:${entry.hash}` : "";
    if (key !== ui.modalKey) {
      ui.modalKey = key;
      ui.modalErrors = "";
      ui.modal = null;
      $("modal-root").replaceChildren();
      if (!entry) return;
      ui.modal = window.TocsinModal.render(entry, ctx(), {
        submit: (values) => act("submit", { view_id: entry.id, values }),
        close: () => act("close", { view_id: entry.id }),
        click: (actionId, value, values) => act("click", { view_id: entry.id, action_id: actionId, value, values }),
      });
      $("modal-root").append(ui.modal.node);
      const first = ui.modal.node.querySelector("input, textarea, select");
      if (first) first.focus();
    }
    const errors = JSON.stringify(entry ? entry.errors : {});
    if (ui.modal && errors !== ui.modalErrors) { ui.modalErrors = errors; ui.modal.showErrors(entry.errors); }
  }

  // -- actions --------------------------------------------------------------------------

  async function act(kind, body) {
    try {
      const result = await call(`/sandbox/act/${kind}`, { user: ui.user, ...body });
      if (result.outcome === "failed") toast(`The app answered HTTP ${result.status}`, "error");
    } catch (error) { /* already shown */ }
    refresh();
  }

  function click(message, element, value) {
    act("click", { channel: message.channel, ts: message.ts, action_id: element.action_id, value });
  }

  function escapeText(text) {
    const escaped = text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
    return escapeMentions(escaped, ui.state, false);
  }

  async function post(text, threadTs) {
    text = text.trim();
    if (!text || !ui.channel) return;
    if (text.startsWith("/") && !threadTs) return act("slash", { channel: ui.channel, text: escapeMentions(text, ui.state) });
    try {
      await call("/sandbox/messages", { user: ui.user, channel: ui.channel, text: escapeText(text), thread_ts: threadTs || null });
    } catch (error) { /* shown */ }
    refresh();
  }

  function composer() {
    const input = $("composer-input");
    attachCompletion(input, $("mention-list"), () => ui.state);
    const send = () => { const text = input.value; input.value = ""; post(text); };
    $("composer").addEventListener("submit", (event) => { event.preventDefault(); send(); });
    input.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey) { event.preventDefault(); send(); }
    });
    for (const button of document.querySelectorAll("[data-tab]")) {
      button.addEventListener("click", () => showTab(button.dataset.tab));
    }
    for (const chip of document.querySelectorAll("[data-example]")) {
      chip.addEventListener("click", () => { input.value = chip.dataset.example; input.focus(); });
    }
    $("fire-alert").addEventListener("click", async () => {
      const result = await call("/sandbox/act/alert", {});
      $("fire-alert").textContent = result.firing ? "Resolve the alert" : "Fire an alert";
      toast(`Alert ${result.status}: the app answered HTTP ${result.http}`, result.ok ? "info" : "error");
    });
    $("acting-user").addEventListener("change", (event) => {
      ui.user = event.target.value;
      ui.modalKey = "*";
      ui.signature = "";
      refresh();
    });
  }

  // -- loop -----------------------------------------------------------------------------

  function draw() {
    const s = ui.state;
    if (!s) return;
    $("fire-alert").hidden = !(s.alerts && s.alerts.enabled);
    sidebar();
    if (ui.channel && ui.channel.startsWith("D") && !s.dms.some((d) => d.channel === ui.channel)) {
      // Another person took the seat: show their DM with the app, on the same tab.
      ui.channel = (s.dms.find((d) => d.app) || {}).channel || null;
      ui.signature = "";
      showTab(ui.tab);
      return;
    }
    header();
    if (appDm() && ui.tab === "home") home(); else messages();
    modal();
    document.body.dataset.ready = "true";
  }

  let pending = null;
  let again = false;
  function refresh() {
    if (pending) { again = true; return pending; }
    const query = new URLSearchParams({ user: ui.user || "", channel: ui.channel || "" });
    pending = fetch(`/sandbox/page/state?${query}`).then((r) => r.json()).then((state) => {
      ui.state = state;
      draw();
    }).catch(() => {}).finally(() => {
      pending = null;
      if (again) { again = false; refresh(); }
    });
    return pending;
  }

  async function start() {
    setEmoji(await (await fetch("/sandbox/emoji.json")).json());
    const first = await (await fetch("/sandbox/page/state")).json();
    const params = new URLSearchParams(location.hash.slice(1));
    ui.user = params.get("user") || (first.users.find((u) => !u.is_bot) || {}).id;
    const wanted = params.get("channel") || "incidents";
    ui.channel = (first.channels.find((c) => c.name === wanted || c.id === wanted) || first.channels[0] || {}).id;
    composer();
    const loop = () => refresh().finally(() => setTimeout(loop, POLL_MS));
    loop();
  }

  start();
})();
