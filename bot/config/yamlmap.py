"""Load YAML safely while remembering the line of every key and item.

`load_yaml` composes the document into nodes (PyYAML's safe loader), walks them once to
record `path -> line` and to reject duplicate keys, then constructs plain Python values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from yaml.reader import ReaderError

from bot.config.problems import KeyPath, Problem, at

_MERGE_TAG = "tag:yaml.org,2002:merge"


@dataclass
class LineMap:
    """Line numbers (from 1) of values and of keys, by key path."""

    values: dict[KeyPath, int] = field(default_factory=dict)
    keys: dict[KeyPath, int] = field(default_factory=dict)

    def line(self, path: KeyPath, *, key: bool = False) -> int:
        """Line of `path` (of its key when `key`), else of its nearest recorded parent, else 1."""
        if key and path in self.keys:
            return self.keys[path]
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return 1


@dataclass
class Loaded:
    """A YAML document as Python values, with its line map."""

    data: Any
    lines: LineMap


class YamlProblem(Exception):
    """The text is not loadable YAML; `problem` says where and why."""

    def __init__(self, problem: Problem) -> None:
        self.problem = problem
        super().__init__(str(problem))


def _line_of_position(text: str, position: int) -> int:
    return text.count("\n", 0, max(position, 0)) + 1


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    parts = [exc.context or "", exc.problem or ""]
    detail = "; ".join(p for p in parts if p) or "not valid YAML"
    return f"YAML syntax error: {detail}"


def load_yaml(text: str, path: str) -> Loaded:
    """Parse one YAML document from `text` (shown as `path` in problems).

    Raise YamlProblem for syntax errors, duplicate keys, several documents or nesting
    too deep; the problem carries the line where the parser stopped.
    """
    loader: yaml.SafeLoader | None = None
    try:
        loader = yaml.SafeLoader(text)
        node = loader.get_single_node()
        if node is None:
            return Loaded(None, LineMap())
        lines = LineMap()
        _Walker(loader, path, lines).walk(node, ())
        return Loaded(loader.construct_document(node), lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else 1
        raise YamlProblem(Problem(path, line, _syntax_message(exc))) from None
    except ReaderError as exc:
        line = _line_of_position(text, exc.position)
        message = f"not YAML text: character U+{int(exc.character):04X} is not allowed"
        raise YamlProblem(Problem(path, line, message)) from None
    except yaml.YAMLError as exc:
        raise YamlProblem(Problem(path, 1, f"YAML error: {exc}")) from None
    except RecursionError:
        raise YamlProblem(Problem(path, 1, "YAML nesting is too deep")) from None
    finally:
        if loader is not None:
            loader.dispose()


class _Walker:
    """Records lines for each node path; each node is entered once (aliases are not re-walked)."""

    def __init__(self, loader: yaml.SafeLoader, path: str, lines: LineMap) -> None:
        self.loader = loader
        self.path = path
        self.lines = lines
        self.seen: set[int] = set()

    def walk(self, node: Node, keys: KeyPath) -> None:
        self.lines.values.setdefault(keys, node.start_mark.line + 1)
        if id(node) in self.seen:
            return
        self.seen.add(id(node))
        if isinstance(node, ScalarNode):
            self._construct(node)
        elif isinstance(node, SequenceNode):
            for index, item in enumerate(node.value):
                self.walk(item, (*keys, index))
        elif isinstance(node, MappingNode):
            self._walk_mapping(node, keys)

    def _walk_mapping(self, node: MappingNode, keys: KeyPath) -> None:
        first_line: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self._construct(key_node)
            key_line = key_node.start_mark.line + 1
            if key in first_line:
                message = f"duplicate key {key!r} (first at line {first_line[key]})"
                raise YamlProblem(at(self.path, key_line, keys, message))
            first_line[key] = key_line
            child = (*keys, key)
            self.lines.keys[child] = key_line
            if not isinstance(value_node, ScalarNode):
                # A block collection starts on the next line; its key's line reads better.
                self.lines.values[child] = key_line
            self.walk(value_node, child)

    def _construct(self, node: ScalarNode) -> Any:
        """Build one scalar now, so that a value PyYAML cannot build is reported at its line."""
        try:
            return self.loader.construct_object(node)
        except yaml.YAMLError:
            raise
        except Exception as exc:  # PyYAML raises ValueError, AttributeError… on odd scalars
            line = node.start_mark.line + 1
            message = f"cannot read {node.value!r} ({node.tag.rsplit(':', 1)[-1]}): {exc}"
            raise YamlProblem(Problem(self.path, line, message)) from None
