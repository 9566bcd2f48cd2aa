// Block Kit and mrkdwn to DOM nodes. Message text is never parsed as HTML: every piece of
// text becomes a text node (textContent), so "<script>" in a message is shown, not run.
"use strict";

// Shortcode -> emoji, loaded from /sandbox/emoji.json (Slack's names) before the first draw.
let EMOJI = {};

function setEmoji(table) {
  EMOJI = table;
}

function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = value;
    else if (key === "className") node.className = value;
    else if (key === "testid") node.dataset.testid = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

function decodeEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function shortcode(name) {
  return Object.hasOwn(EMOJI, name) ? EMOJI[name] : null;
}

function emojify(text) {
  return text.replace(/:([a-z0-9_+-]+):/g, (whole, name) => shortcode(name) || whole);
}

function textNode(text) {
  return document.createTextNode(emojify(decodeEntities(text)));
}

function safeHref(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : null;
}

function mention(kind, label, testid) {
  return el("span", { className: `mention mention-${kind}`, text: label, testid });
}

// One "<...>" token: user, channel, group and special mentions, links, or literal text.
function special(body, ctx) {
  const [target, label] = body.split("|", 2);
  let m;
  if ((m = /^@([UW][A-Z0-9]+)$/.exec(target))) {
    const user = ctx.users[m[1]];
    return mention("user", "@" + (user ? user.name : label || m[1]), "mention");
  }
  if ((m = /^#([CGD][A-Z0-9]+)$/.exec(target))) {
    const channel = ctx.channels[m[1]];
    return mention("channel", "#" + (channel ? channel.name : label || m[1]), "channel-link");
  }
  if ((m = /^!subteam\^([A-Z0-9]+)$/.exec(target))) {
    const group = ctx.usergroups[m[1]];
    return mention("group", group ? "@" + group.handle : label || "@group");
  }
  if ((m = /^!(here|channel|everyone)$/.exec(target))) return mention("broadcast", "@" + m[1]);
  if (target.startsWith("!date^")) return textNode(label || target);
  const href = safeHref(decodeEntities(target));
  if (href) {
    return el("a", { href, target: "_blank", rel: "noopener noreferrer" },
      textNode(label || target));
  }
  return textNode("<" + body + ">");
}

const TOKEN = new RegExp(
  [
    "```([\\s\\S]+?)```",
    "`([^`\\n]+)`",
    "<([^<>\\n]+)>",
    "(?<![\\w*])\\*(?=\\S)([^*\\n]*?\\S)\\*(?![\\w*])",
    "(?<![\\w_])_(?=\\S)([^_\\n]*?\\S)_(?![\\w_])",
    "(?<![\\w~])~(?=\\S)([^~\\n]*?\\S)~(?![\\w~])",
  ].join("|"),
  "g",
);

function inline(text, ctx, out) {
  let last = 0;
  for (const m of text.matchAll(TOKEN)) {
    if (m.index > last) out.append(textNode(text.slice(last, m.index)));
    if (m[1] !== undefined) out.append(el("pre", { className: "code-block", text: decodeEntities(m[1]) }));
    else if (m[2] !== undefined) out.append(el("code", { text: decodeEntities(m[2]) }));
    else if (m[3] !== undefined) out.append(special(m[3], ctx));
    else {
      const tag = m[4] !== undefined ? "strong" : m[5] !== undefined ? "em" : "s";
      const wrapper = el(tag);
      inline(m[4] ?? m[5] ?? m[6], ctx, wrapper);
      out.append(wrapper);
    }
    last = m.index + m[0].length;
  }
  if (last < text.length) out.append(textNode(text.slice(last)));
}

// Slack mrkdwn: quotes (lines starting with ">"), then inline formatting and tokens.
function mrkdwn(text, ctx) {
  const root = el("span", { className: "mrkdwn" });
  const lines = String(text || "").split("\n");
  let i = 0;
  while (i < lines.length) {
    const quoted = /^(&gt;|>) ?/;
    if (quoted.test(lines[i])) {
      const group = [];
      while (i < lines.length && quoted.test(lines[i])) group.push(lines[i++].replace(quoted, ""));
      const quote = el("blockquote");
      inline(group.join("\n"), ctx, quote);
      root.append(quote);
      continue;
    }
    const plain = [];
    while (i < lines.length && !quoted.test(lines[i])) plain.push(lines[i++]);
    inline(plain.join("\n"), ctx, root);
  }
  return root;
}

function textObject(obj, ctx) {
  if (!obj) return el("span");
  if (obj.type === "mrkdwn" && !obj.verbatim) return mrkdwn(obj.text, ctx);
  if (obj.type === "mrkdwn") return el("span", { className: "mrkdwn", text: decodeEntities(obj.text) });
  return el("span", { className: "plain", text: emojify(obj.text || "") });
}

function plain(obj) {
  return obj ? emojify(obj.text || "") : "";
}

function allOptions(element) {
  const options = [...(element.options || [])];
  for (const group of element.option_groups || []) options.push(...(group.options || []));
  return options;
}

// Interactive elements in messages and modals; `ctx.onAction(element, value)` is the click.
function interactive(element, ctx) {
  const id = element.action_id || "";
  const act = (value) => ctx.onAction && ctx.onAction(element, value);
  switch (element.type) {
    case "button":
      return el("button", {
        type: "button",
        className: `btn ${element.style ? "btn-" + element.style : ""}`,
        testid: `button-${id}`,
        "data-action-id": id,
        // Slack's confirm dialog: the click goes out only when the person confirms.
        onclick: () => (!element.confirm || window.confirm(`${plain(element.confirm.title)}\n\n${plain(element.confirm.text)}`)) && act(element.value ?? ""),
        title: element.url || null,
      }, plain(element.text));
    case "overflow":
    case "static_select":
    case "users_select":
    case "conversations_select":
    case "channels_select": {
      const select = el("select", { className: "select", testid: `select-${id}`, "data-action-id": id });
      select.append(el("option", { value: "", text: element.type === "overflow" ? "⋯" : plain(element.placeholder) || "Select…" }));
      for (const [value, label] of selectChoices(element, ctx)) select.append(el("option", { value, text: label }));
      select.addEventListener("change", () => select.value && act(select.value));
      return select;
    }
    case "image":
      return el("span", { className: "image-alt", text: `[image: ${element.alt_text || ""}]` });
    default:
      return el("span", { className: "unsupported", text: `[${element.type}]` });
  }
}

function selectChoices(element, ctx) {
  const kind = element.type.replace(/^multi_/, "");
  if (kind === "users_select") {
    return ctx.userList.filter((u) => !u.is_bot).map((u) => [u.id, `${u.real_name} (@${u.name})`]);
  }
  if (kind === "conversations_select" || kind === "channels_select") {
    return ctx.channelList.map((c) => [c.id, "#" + c.name]);
  }
  return allOptions(element).map((o) => [o.value, plain(o.text)]);
}

function contextElement(element, ctx) {
  if (element.type === "image") return el("span", { className: "image-alt", text: `[${element.alt_text || "image"}]` });
  return textObject(element, ctx);
}

function richText(block, ctx) {
  const box = el("div", { className: "block rich-text" });
  const section = (elements, into) => {
    for (const e of elements || []) {
      if (e.type === "text") {
        const node = el("span", { text: e.text });
        if (e.style && e.style.bold) node.classList.add("b");
        if (e.style && e.style.italic) node.classList.add("i");
        if (e.style && e.style.code) node.classList.add("inline-code");
        into.append(node);
      } else if (e.type === "link" && safeHref(e.url)) {
        into.append(el("a", { href: e.url, target: "_blank", rel: "noopener noreferrer", text: e.text || e.url }));
      } else if (e.type === "user") into.append(special("@" + e.user_id, ctx));
      else if (e.type === "channel") into.append(special("#" + e.channel_id, ctx));
      else if (e.type === "emoji") into.append(shortcode(e.name) || `:${e.name}:`);
      else if (e.type === "broadcast") into.append(mention("broadcast", "@" + e.range));
    }
  };
  for (const part of block.elements || []) {
    const kind = { rich_text_preformatted: "pre", rich_text_quote: "blockquote" }[part.type] || "div";
    const into = el(kind);
    if (part.type === "rich_text_list") {
      for (const item of part.elements || []) { const li = el("div", { text: "• " }); section(item.elements, li); into.append(li); }
    } else section(part.elements, into);
    box.append(into);
  }
  return box;
}

function block(b, ctx) {
  switch (b.type) {
    case "header":
      return el("div", { className: "block block-header", testid: "block-header" }, plain(b.text));
    case "section": {
      const box = el("div", { className: "block block-section" });
      const main = el("div", { className: "section-main" });
      if (b.text) main.append(textObject(b.text, ctx));
      if (b.fields) main.append(el("div", { className: "fields" }, b.fields.map((f) => el("div", { className: "field" }, textObject(f, ctx)))));
      box.append(main);
      if (b.accessory) box.append(el("div", { className: "accessory" }, interactive(b.accessory, ctx)));
      return box;
    }
    case "context":
      return el("div", { className: "block block-context" }, (b.elements || []).map((e) => contextElement(e, ctx)));
    case "divider":
      return el("hr", { className: "block block-divider" });
    case "actions":
      return el("div", { className: "block block-actions" }, (b.elements || []).map((e) => interactive(e, ctx)));
    case "image":
      return el("div", { className: "block image-alt", text: `[image${b.title ? ": " + plain(b.title) : ""}] ${b.alt_text || ""}` });
    case "rich_text":
      return richText(b, ctx);
    default:
      return el("div", { className: "block unsupported", text: `[unsupported block: ${b.type}]` });
  }
}

function blocks(list, ctx) {
  return el("div", { className: "blocks" }, (list || []).map((b) => block(b, ctx)));
}

window.TocsinRender = { el, mrkdwn, blocks, block, textObject, plain, allOptions, selectChoices, decodeEntities, emojify, setEmoji };
