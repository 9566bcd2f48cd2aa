"""A person's notification rules on their App Home, and the form that changes them."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    InputBlock,
    MarkdownTextObject,
    PlainTextInputElement,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.render.messages import escape, slack_date

EDIT = "notify_rules_edit"  # the App Home's button
FORM = "notify_rules"  # the modal's callback id
FIELD = "rules"  # its one input's block and action id


def rules_blocks(
    text: str, source: str, contacts: str, last: tuple[float, str, str] | None
) -> list[Block]:
    """The App Home's section: the rules that page me now (`text`), where they come from
    (`source`), the addresses they reach, and the last change `(at, by, to)` if any."""
    lines = [f"`{escape(text)}`  ({source})", contacts]
    blocks: list[Block] = [
        DividerBlock(),
        HeaderBlock(text="My notification rules"),
        SectionBlock(text=MarkdownTextObject(text="\n".join(lines))),
        ActionsBlock(
            block_id=EDIT,
            elements=[ButtonElement(text="Change my rules", action_id=EDIT, value="edit")],
        ),
    ]
    if last is not None:
        at, by, to = last
        when = slack_date(at, "{date_short_pretty} {time}", "")
        said = f"`{escape(to)}`" if to else "the file's rules"
        blocks.append(
            ContextBlock(elements=[MarkdownTextObject(text=f"Set to {said} by <@{by}> {when}")])
        )
    return blocks


def rules_form(current: str) -> dict[str, Any]:
    """The form: rules as text, `0m slack, 2m sms, 5m voice`; left empty, back to the file's."""
    hint = (
        "A delay and a method each, by commas: 0m slack, 2m sms, 5m voice, 3m email, "
        "0m apprise:<url>. Leave it empty to follow people.yaml again."
    )
    view = View(
        type="modal",
        callback_id=FORM,
        title="My notification rules",
        submit="Save",
        close="Cancel",
        blocks=[
            InputBlock(
                block_id=FIELD,
                label="When I am paged, reach me by",
                element=PlainTextInputElement(
                    action_id=FIELD, multiline=True, initial_value=current or None, max_length=500
                ),
                hint=hint,
                optional=True,
            )
        ],
    )
    return view.to_dict()
