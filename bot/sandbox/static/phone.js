// The sandbox page's phones: each number the sandbox's Twilio reached, with the SMS it got
// and sent and the calls it received. A reply box texts the app's number (a signed webhook to
// the app, bot/sandbox/twilio.py); a call's keys press digits on its <Gather>.
"use strict";

(function () {
  const { el } = window.TocsinRender;
  const POLL_MS = 1500;
  const drafts = {};
  let signature = "";

  async function post(path, body) {
    const response = await fetch(path, {
      method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
    });
    return response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  }

  function sms(message) {
    const inbound = message.direction === "inbound";
    return el("li", { className: `phone-sms ${inbound ? "phone-out" : "phone-in"}`, testid: "phone-sms" },
      el("span", { className: "phone-who", text: inbound ? "you:" : `${message.from}:` }),
      " ", message.body);
  }

  function call(number, c) {
    const keys = ["1", "2"].map((digit) => el("button", {
      type: "button", className: "chip", text: `press ${digit}`, testid: `phone-press-${digit}`,
      disabled: c.status === "completed",
      onclick: async () => { await post("/twilio/sandbox/press", { call: c.sid, digits: digit }); poll(); },
    }));
    return el("li", { className: "phone-call", testid: "phone-call" },
      el("div", { className: "phone-who", text: `call from ${c.from} · ${c.status}${c.digits ? ` · pressed ${c.digits}` : ""}` }),
      el("div", { text: c.said.join(" ") }),
      ...(c.status === "completed" ? [] : keys));
  }

  function reply(number) {
    const input = el("input", {
      type: "text", placeholder: "ACK", value: drafts[number] || "", testid: "phone-reply-input",
      oninput: (event) => { drafts[number] = event.target.value; },
    });
    return el("form", {
      className: "phone-reply", testid: "phone-reply",
      onsubmit: async (event) => {
        event.preventDefault();
        const body = input.value.trim();
        if (!body) return;
        drafts[number] = "";
        await post("/twilio/sandbox/reply", { phone: number, body });
        poll();
      },
    }, input, el("button", { type: "submit", className: "btn", text: "Text" }));
  }

  function draw(phones) {
    const numbers = Object.keys(phones).sort();
    const root = document.getElementById("phones");
    root.replaceChildren(...numbers.map((number) => el("div", { className: "phone", testid: "phone" },
      el("div", { className: "phone-number", text: number }),
      el("ul", {}, ...phones[number].sms.map(sms), ...phones[number].calls.map((c) => call(number, c))),
      reply(number))));
    if (!numbers.length) root.append(el("div", { className: "muted", text: "No SMS or calls yet." }));
  }

  async function poll() {
    try {
      const phones = await (await fetch("/twilio/sandbox/phones")).json();
      const seen = JSON.stringify(phones);
      if (seen !== signature || !document.getElementById("phones").childElementCount) {
        signature = seen;
        draw(phones);
      }
    } catch (error) {
      /* the sandbox is restarting: the next poll draws again */
    }
  }

  poll();
  setInterval(poll, POLL_MS);
})();
