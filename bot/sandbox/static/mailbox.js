// The acting person's mailbox: what the sandbox's SMTP server received for their address
// (GET /sandbox/mailbox?user=U…), newest first. A mail opens to its text; the links in it
// (an email page's acknowledge link) open in a new tab, on the bot's web process.
"use strict";

(function () {
  const { el } = window.TocsinRender;
  const POLL_MS = 1000;
  const URL_RE = /https?:\/\/[^\s<>"')\]]+/g;
  const opened = new Set();
  let signature = "";

  // The text as nodes: plain text, its URLs as links (never as HTML).
  function linked(text) {
    const nodes = [];
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      nodes.push(text.slice(last, match.index));
      nodes.push(el("a", { href: match[0], target: "_blank", rel: "noopener noreferrer", testid: "mail-link", text: match[0] }));
      last = match.index + match[0].length;
    }
    nodes.push(text.slice(last));
    return nodes;
  }

  function mail(m) {
    const open = opened.has(m.id);
    const when = new Date(m.at * 1000).toLocaleTimeString();
    return el("li", { className: `mail ${open ? "open" : ""}`, testid: "mail" },
      el("div", { className: "mail-head", onclick: () => { open ? opened.delete(m.id) : opened.add(m.id); signature = ""; draw(); } },
        el("span", { className: "mail-subject", testid: "mail-subject", text: m.subject || "(no subject)" }),
        el("span", { className: "muted", text: ` ${when}` })),
      open ? el("pre", { className: "mail-text", testid: "mail-text" }, linked(m.text)) : null);
  }

  let last = { address: "", mails: [] };
  function draw() {
    const box = document.getElementById("mailbox");
    const key = JSON.stringify([last.address, last.mails.map((m) => m.id), [...opened]]);
    if (!box || key === signature) return;
    signature = key;
    document.getElementById("mailbox-address").textContent = last.address || "no email address";
    box.replaceChildren(...(last.mails.length
      ? last.mails.slice().reverse().map(mail)
      : [el("li", { className: "muted mail-empty", text: "No mail" })]));
  }

  async function refresh() {
    const user = document.getElementById("acting-user").value;
    if (!user) return;
    const response = await fetch(`/sandbox/mailbox?user=${encodeURIComponent(user)}`);
    if (response.ok) last = await response.json();
    draw();
  }

  const loop = () => refresh().catch(() => {}).finally(() => setTimeout(loop, POLL_MS));
  loop();
})();
