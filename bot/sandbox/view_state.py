"""The interactive elements of blocks and views as Slack reports them back to an app:
where a clicked element sits, and a view's `state.values` once a user filled it in.

Pure; keys follow Slack's reference payloads (see bot.sandbox.payloads).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

JSON = dict[str, Any]

# Stateful element type -> (state key, initial key, holds a list, values are options).
_STATE_KEYS: dict[str, tuple[str, str, bool, bool]] = {
    "plain_text_input": ("value", "initial_value", False, False),
    "number_input": ("value", "initial_value", False, False),
    "email_text_input": ("value", "initial_value", False, False),
    "url_text_input": ("value", "initial_value", False, False),
    "static_select": ("selected_option", "initial_option", False, True),
    "radio_buttons": ("selected_option", "initial_option", False, True),
    "checkboxes": ("selected_options", "initial_options", True, True),
    "multi_static_select": ("selected_options", "initial_options", True, True),
    "users_select": ("selected_user", "initial_user", False, False),
    "multi_users_select": ("selected_users", "initial_users", True, False),
    "conversations_select": ("selected_conversation", "initial_conversation", False, False),
    "channels_select": ("selected_channel", "initial_channel", False, False),
    "datepicker": ("selected_date", "initial_date", False, False),
    "timepicker": ("selected_time", "initial_time", False, False),
}


def _elements(block: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield from block.get("elements", ())
    for key in ("accessory", "element"):
        if isinstance(block.get(key), Mapping):
            yield block[key]


def find_element(blocks: Sequence[Mapping[str, Any]], action_id: str) -> tuple[str, JSON]:
    """The `(block_id, element)` of the interactive element with `action_id`.

    Raises `LookupError` when no block holds it: a user cannot click what is not there.
    """
    for index, block in enumerate(blocks):
        for element in _elements(block):
            if element.get("action_id") == action_id:
                return str(block.get("block_id") or f"b{index}"), dict(element)
    raise LookupError(f"no element with action_id={action_id!r} in the given blocks")


def _option(element: Mapping[str, Any], value: object) -> JSON:
    options = list(element.get("options", ()))
    for group in element.get("option_groups", ()):
        options.extend(group.get("options", ()))
    for option in options:
        if option.get("value") == value:
            return dict(option)
    raise LookupError(f"{element.get('action_id')!r} has no option with value {value!r}")


def element_state(element: Mapping[str, Any], chosen: object = ...) -> JSON:
    """One element's entry in `view.state.values`; `...` means the user left it untouched."""
    kind = str(element["type"])
    state_key, initial_key, many, options = _STATE_KEYS[kind]
    selected: object
    if chosen is ...:
        selected = element.get(initial_key, [] if many else None)
    elif chosen is None:
        selected = [] if many else None
    elif many:
        if isinstance(chosen, str) or not isinstance(chosen, Sequence):
            raise TypeError(f"{element.get('action_id')!r} takes a list of values")
        selected = [_option(element, v) for v in chosen] if options else list(chosen)
    else:
        selected = _option(element, chosen) if options else chosen
    return {"type": kind, state_key: selected}


def state_values(view: Mapping[str, Any], values: Mapping[str, object]) -> JSON:
    """Slack's `view.state.values`: `{block_id: {action_id: state}}` for every input.

    `values` maps action ids to what the user entered: a string for text inputs, an option
    value for selects and radio buttons, a list of option values for checkboxes, a user id
    for users_select. Inputs not named keep their initial value, as in Slack.
    """
    state: JSON = {}
    seen: set[str] = set()
    for index, block in enumerate(view.get("blocks", ())):
        for element in _elements(block):
            action_id = element.get("action_id")
            if action_id is None or element.get("type") not in _STATE_KEYS:
                continue
            block_id = str(block.get("block_id") or f"b{index}")
            state.setdefault(block_id, {})[action_id] = element_state(
                element, values.get(action_id, ...)
            )
            seen.add(action_id)
    unknown = set(values) - seen
    if unknown:
        raise LookupError(f"view {view.get('callback_id')!r} has no input {sorted(unknown)}")
    return state
