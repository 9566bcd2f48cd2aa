// The composer's mentions: a typed @name, @group or #channel the workspace knows is sent as
// Slack's escape (`<@U…|name>`, `<!subteam^S…|@handle>`, `<#C…|name>`), as Slack does for a
// picked mention when the app's manifest says should_escape; and an @-completion list.
"use strict";

(function () {
  const { el } = window.TocsinRender;
  // A sigil at the start or after a space or "(", then a name that does not end in a dot.
  const MENTION = /(^|[\s(])([@#])([a-z0-9._-]*[a-z0-9_-])/gi;
  const TYPING = /(^|\s)@([a-z0-9._-]*)$/i;
  const MAX_SHOWN = 8;

  // `text` with every known @name and #channel escaped; `labels: false` drops the `|name` part
  // (Slack's message events carry bare `<@U…>`; its slash commands carry the label).
  function escapeMentions(text, state, labels = true) {
    const label = (name) => (labels ? `|${name}` : "");
    return text.replace(MENTION, (whole, before, sigil, name) => {
      const wanted = name.toLowerCase();
      if (sigil === "#") {
        const channel = state.channels.find((c) => c.name === wanted);
        return channel ? `${before}<#${channel.id}|${channel.name}>` : whole;
      }
      const user = state.users.find((u) => u.name === wanted);
      if (user) return `${before}<@${user.id}${label(user.name)}>`;
      const group = state.usergroups.find((g) => g.handle === wanted);
      return group ? `${before}<!subteam^${group.id}|@${group.handle}>` : whole;
    });
  }

  // Everyone who can be @-mentioned whose handle or name starts with `prefix`.
  function candidates(state, prefix) {
    const people = state.users.filter((u) => !u.is_bot)
      .map((u) => ({ handle: u.name, label: u.real_name, id: u.id }));
    const groups = state.usergroups.map((g) => ({ handle: g.handle, label: "user group", id: g.id }));
    return [...people, ...groups].filter((c) => c.handle.startsWith(prefix)
      || c.label.toLowerCase().split(/\s+/).some((word) => word.startsWith(prefix))).slice(0, MAX_SHOWN);
  }

  // Offer completions under `input` while an @word is being typed; Tab or Enter (or a click)
  // picks, arrows move, Escape closes; Enter after a whole name sends. Register this before
  // the composer's own Enter handler.
  function attachCompletion(input, list, getState) {
    let shown = [];
    let active = 0;
    const typing = () => {
      const before = input.value.slice(0, input.selectionStart);
      const m = TYPING.exec(before);
      return m ? { start: before.length - m[2].length - 1, prefix: m[2].toLowerCase() } : null;
    };
    const hide = () => { shown = []; list.hidden = true; list.replaceChildren(); };
    const pick = (choice) => {
      const word = typing();
      if (!word) return hide();
      const rest = input.value.slice(input.selectionStart);
      const inserted = `@${choice.handle} `;
      input.value = input.value.slice(0, word.start) + inserted + rest.replace(/^\s+/, "");
      const caret = word.start + inserted.length;
      input.setSelectionRange(caret, caret);
      input.focus();
      hide();
    };
    const draw = () => {
      list.replaceChildren(...shown.map((choice, i) => el("li", {
        className: `mention-option ${i === active ? "active" : ""}`, testid: "mention-option",
        "data-handle": choice.handle,
        onmousedown: (event) => { event.preventDefault(); pick(choice); },
      }, el("strong", { text: `@${choice.handle}` }), " ", el("span", { className: "muted", text: choice.label }))));
      list.hidden = shown.length === 0;
    };
    const update = () => {
      const word = typing();
      const state = getState();
      shown = word && state ? candidates(state, word.prefix) : [];
      active = 0;
      draw();
    };
    input.addEventListener("input", update);
    input.addEventListener("click", update);
    input.addEventListener("blur", hide);
    input.addEventListener("keydown", (event) => {
      if (!shown.length) return;
      const moves = { ArrowDown: 1, ArrowUp: -1 };
      if (event.key in moves) {
        active = (active + moves[event.key] + shown.length) % shown.length;
        draw();
      } else if (event.key === "Enter" && !event.shiftKey && typing().prefix === shown[active].handle) {
        hide();  // the name is already whole: nothing to complete, so Enter sends
        return;
      } else if (event.key === "Tab" || (event.key === "Enter" && !event.shiftKey)) {
        pick(shown[active]);
      } else if (event.key === "Escape") {
        hide();
      } else return;
      event.preventDefault();
      event.stopImmediatePropagation();
    });
    hide();
  }

  window.TocsinComposer = { escapeMentions, attachCompletion };
})();
