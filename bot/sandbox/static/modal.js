// A modal (views.open / push / update) as an overlay: inputs, selects, errors, submit and close.
"use strict";

(function () {
  const { el, plain, textObject, allOptions, selectChoices } = window.TocsinRender;

  function optionList(element, ctx) {
    return element.type.endsWith("users_select") || /(conversations|channels)_select$/.test(element.type)
      ? selectChoices(element, ctx)
      : allOptions(element).map((o) => [o.value, plain(o.text)]);
  }

  function initialValues(element) {
    const one = element.initial_option ? element.initial_option.value
      : element.initial_user || element.initial_conversation || element.initial_channel;
    const many = (element.initial_options || []).map((o) => o.value)
      .concat(element.initial_users || [], element.initial_conversations || [], element.initial_channels || []);
    return one ? [one] : many;
  }

  // An input element: its node and a getter for what the user chose (null when nothing).
  function field(element, ctx) {
    const id = element.action_id;
    const testid = `input-${id}`;
    const common = { testid, "data-action-id": id, placeholder: plain(element.placeholder) || null };
    switch (element.type) {
      case "plain_text_input":
      case "number_input":
      case "email_text_input":
      case "url_text_input": {
        const type = { number_input: "number", email_text_input: "email", url_text_input: "url" }[element.type] || "text";
        const node = element.multiline
          ? el("textarea", { ...common, rows: 4, maxlength: element.max_length })
          : el("input", { ...common, type, maxlength: element.max_length });
        node.value = element.initial_value || "";
        return { node, get: () => (node.value === "" ? null : node.value) };
      }
      case "datepicker":
      case "timepicker": {
        const node = el("input", { ...common, type: element.type === "datepicker" ? "date" : "time" });
        node.value = element.initial_date || element.initial_time || "";
        return { node, get: () => node.value || null };
      }
      case "checkboxes":
      case "radio_buttons": {
        const box = el("div", { className: "choices", testid });
        const chosen = new Set(initialValues(element));
        const kind = element.type === "checkboxes" ? "checkbox" : "radio";
        for (const option of element.options || []) {
          const input = el("input", { type: kind, name: `${id}-${ctx.viewId}`, value: option.value });
          input.checked = chosen.has(option.value);
          box.append(el("label", { className: "choice", testid: `choice-${id}-${option.value}` },
            input, textObject(option.text, ctx),
            option.description ? el("span", { className: "hint" }, textObject(option.description, ctx)) : null));
        }
        const picked = () => [...box.querySelectorAll("input:checked")].map((i) => i.value);
        return { node: box, get: () => (kind === "radio" ? picked()[0] || null : picked()) };
      }
      default: {
        if (!/select$/.test(element.type)) {
          return { node: el("span", { className: "unsupported", text: `[${element.type}]` }), get: null };
        }
        const many = element.type.startsWith("multi_");
        const node = el("select", { ...common, className: "select", multiple: many });
        if (!many) node.append(el("option", { value: "", text: plain(element.placeholder) || "Select an option" }));
        const chosen = new Set(initialValues(element));
        for (const [value, label] of optionList(element, ctx)) {
          const option = el("option", { value, text: label });
          option.selected = chosen.has(value);
          node.append(option);
        }
        const get = () => (many ? [...node.selectedOptions].map((o) => o.value) : node.value || null);
        return { node, get };
      }
    }
  }

  function isEmpty(value) {
    return value === null || value === "" || (Array.isArray(value) && value.length === 0);
  }

  // Build the overlay for `entry` (a /sandbox/views entry); handlers: submit, close, click.
  function render(entry, ctx, handlers) {
    const view = entry.view;
    const inputs = [];
    const errorNodes = {};
    const generalError = el("div", { className: "modal-error", testid: "modal-error", hidden: true });
    const collect = () => {
      const values = {};
      for (const input of inputs) if (input.get) values[input.actionId] = input.get();
      return values;
    };
    const blockCtx = { ...ctx, viewId: entry.id,
      onAction: (element, value) => handlers.click(element.action_id, value, collect()) };
    const body = el("div", { className: "modal-body" }, generalError);
    for (const b of view.blocks || []) {
      if (b.type !== "input") {
        body.append(window.TocsinRender.block(b, blockCtx));
        continue;
      }
      const made = field(b.element, blockCtx);
      const error = el("div", { className: "field-error", testid: `error-${b.block_id}`, hidden: true });
      errorNodes[b.block_id] = error;
      inputs.push({ actionId: b.element.action_id, blockId: b.block_id, optional: !!b.optional, get: made.get });
      body.append(el("div", { className: "input-block", testid: `input-block-${b.block_id}` },
        el("label", { className: "input-label" }, plain(b.label),
          b.optional ? el("span", { className: "optional", text: " (optional)" }) : null),
        made.node,
        b.hint ? el("div", { className: "hint" }, plain(b.hint)) : null,
        error));
    }
    const showErrors = (errors) => {
      const unplaced = [];
      for (const node of Object.values(errorNodes)) node.hidden = true;
      for (const [blockId, message] of Object.entries(errors || {})) {
        const node = errorNodes[blockId];
        if (node) { node.textContent = message; node.hidden = false; } else unplaced.push(message);
      }
      generalError.textContent = unplaced.join(" ");
      generalError.hidden = unplaced.length === 0;
    };
    const submit = () => {
      const missing = {};
      for (const input of inputs) {
        if (!input.optional && input.get && isEmpty(input.get())) missing[input.blockId] = "Please complete this required field.";
      }
      if (Object.keys(missing).length) return showErrors(missing);
      handlers.submit(collect());
    };
    const pushed = !!entry.previous_view_id;
    const dialog = el("div", { className: "modal", role: "dialog", "aria-modal": "true", testid: "modal" },
      el("header", { className: "modal-header" },
        el("h2", { testid: "modal-title", text: plain(view.title) }),
        el("button", { type: "button", className: "icon-btn", testid: "modal-x", title: pushed ? "Back" : "Close",
          onclick: handlers.close, text: pushed ? "‹" : "×" })),
      body,
      el("footer", { className: "modal-footer" },
        el("button", { type: "button", className: "btn", testid: "modal-close", onclick: handlers.close },
          plain(view.close) || "Cancel"),
        view.submit ? el("button", { type: "button", className: "btn btn-primary", testid: "modal-submit", onclick: submit },
          plain(view.submit)) : null));
    const overlay = el("div", { className: "overlay", testid: "modal-overlay" }, dialog);
    overlay.addEventListener("keydown", (event) => { if (event.key === "Escape") handlers.close(); });
    showErrors(entry.errors);
    return { node: overlay, showErrors, collect };
  }

  window.TocsinModal = { render };
})();
