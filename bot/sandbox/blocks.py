"""Block Kit checks: Slack's limits, enforced through slack_sdk.models, plus the ids Slack adds.

Messages that break a limit are refused with `invalid_blocks`, views with `invalid_arguments`,
each with a `response_metadata.messages` line saying what was wrong, as Slack does.
"""

from __future__ import annotations

import copy
import random
import string
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from bot.sandbox.params import JsonDict, SlackError

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_TEXT = 40_000
VIEW_TYPES = ("modal", "home")
_ID_CHARS = string.ascii_letters + string.digits
_rng = random.Random(0)


def _problem(code: str, message: str) -> SlackError:
    return SlackError(code, response_metadata={"messages": [f"[ERROR] {message}"]})


def _check_blocks(blocks: Any, code: str, limit: int) -> list[JsonDict]:
    if not isinstance(blocks, list):
        raise _problem(code, "blocks must be an array [json-pointer:/blocks]")
    if len(blocks) > limit:
        raise _problem(code, f"must be less than {limit + 1} items [json-pointer:/blocks]")
    for index, raw in enumerate(blocks):
        where = f"[json-pointer:/blocks/{index}]"
        if not isinstance(raw, dict):
            raise _problem(code, f"block must be an object {where}")
        try:
            parsed = Block.parse(copy.deepcopy(raw))
            if parsed is None:
                raise _problem(code, f"unsupported type: {raw.get('type')!r} {where}")
            parsed.to_dict()  # validates this block and everything nested in it
        except SlackObjectFormationError as exc:
            raise _problem(code, f"{exc} {where}") from exc
        except (TypeError, KeyError, AttributeError, ValueError) as exc:
            raise _problem(code, f"malformed block: {exc} {where}") from exc
    return blocks


def with_block_ids(blocks: list[JsonDict]) -> list[JsonDict]:
    """A copy of `blocks` where every block has a `block_id`, as Slack assigns one."""
    out = []
    for block in blocks:
        block = dict(block)
        if "block_id" not in block:
            block["block_id"] = "".join(_rng.choice(_ID_CHARS) for _ in range(5))
        out.append(block)
    return out


def message_blocks(blocks: Any) -> list[JsonDict] | None:
    """Validate a message's blocks (None when absent); refuse with `invalid_blocks`."""
    if blocks is None:
        return None
    return with_block_ids(_check_blocks(blocks, "invalid_blocks", MAX_MESSAGE_BLOCKS))


def check_text(text: str) -> None:
    if len(text) > MAX_TEXT:
        raise SlackError("msg_too_long")


def view_payload(view: Any) -> JsonDict:
    """Validate a view (modal or home tab) and return it with block ids filled in."""
    code = "invalid_arguments"
    if not isinstance(view, dict):
        raise _problem(code, "view must be an object [json-pointer:/view]")
    if view.get("type") not in VIEW_TYPES:
        raise _problem(code, "must be one of modal, home [json-pointer:/view/type]")
    blocks = _check_blocks(view.get("blocks", []), code, MAX_VIEW_BLOCKS)
    if view["type"] == "modal" and "title" not in view:
        raise _problem(code, "missing required field: title [json-pointer:/view/title]")
    try:
        View(**copy.deepcopy(view)).to_dict()
    except SlackObjectFormationError as exc:
        raise _problem(code, f"{exc} [json-pointer:/view]") from exc
    except (TypeError, KeyError, AttributeError, ValueError) as exc:
        raise _problem(code, f"malformed view: {exc} [json-pointer:/view]") from exc
    return {**view, "blocks": with_block_ids(blocks)}
