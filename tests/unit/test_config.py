"""Config loading: example directory, exact problems for broken files, check, JSON Schema."""

from __future__ import annotations

import io
import json
import re
import socket
import tempfile
from collections.abc import Mapping
from datetime import datetime, time
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.config import ConfigError, json_schema, load_catalog, run_check
from bot.config.yamlmap import YamlProblem, load_yaml
from bot.domain.catalog import Catalog
from bot.domain.policy import Target, TargetKind

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "escalation_policies"
BROKEN = "tests/fixtures/config/broken"
LINE = re.compile(r"^.+:\d+: .+$")


def _write(directory: Path, files: Mapping[str, str | bytes]) -> Path:
    directory.mkdir(exist_ok=True)
    for name, content in files.items():
        path = directory / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    return directory


def _problems(directory: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalog(directory)
    return [str(p).removeprefix(f"{directory}/") for p in caught.value.problems]


_POLICY = "name: web\nservices: [web]\nsteps:\n  - notify: [user:U0LEAD1]\n    wait: 5m\n"
_SEVERITIES = "severities:\n  sev1: {label: Outage, update_every: 15m}\n"


class TestExample:
    def test_example_loads(self) -> None:
        """The shipped example directory loads into a full Catalog."""
        catalog = load_catalog(EXAMPLE)
        assert sorted(catalog.policies) == ["payments", "platform"]
        assert sorted(catalog.schedules) == [
            "payments-primary",
            "payments-secondary",
            "platform-primary",
        ]
        assert catalog.tier_names == ("sev1", "sev2", "sev3")

    def test_policy_values(self) -> None:
        """Policy steps carry parsed targets and waits in seconds."""
        payments = load_catalog(EXAMPLE).policies["payments"]
        assert payments.steps[1].targets == (
            Target(TargetKind.SCHEDULE, "payments-secondary"),
            Target(TargetKind.USER, "U0LEAD1"),
        )
        assert [s.wait_s for s in payments.steps] == [300, 600, 900]
        assert (payments.repeat, payments.fallback_channel) == (1, "C0INCIDENTS")
        assert payments.severities == ("sev1", "sev2")

    def test_schedule_values(self) -> None:
        """Schedules keep naive wall-clock starts, restrictions and overrides."""
        schedules = load_catalog(EXAMPLE).schedules
        primary = schedules["payments-primary"]
        assert primary.timezone == "America/Chicago"
        assert primary.rotations[0].start == datetime(2026, 1, 6, 9, 0)  # noqa: DTZ001
        assert primary.overrides[0].user == "U0DAVE001"
        restrict = schedules["payments-secondary"].rotations[0].restrict
        assert restrict is not None
        assert restrict.days == frozenset(range(5))
        assert (restrict.start, restrict.end) == (time(8), time(20))

    def test_tier_values(self) -> None:
        """Severity extensions map to Tier, Criteria and Rights."""
        catalog = load_catalog(EXAMPLE)
        sev1, sev3 = catalog.tier("sev1"), catalog.tier("sev3")
        assert sev1.update_every_s == 900
        assert sev1.stakeholder_channel == "C0STATUS"
        assert sev1.criteria.users_affected_pct == 25.0
        assert sev1.rights.resolve == ("role:commander",)
        assert catalog.tier("sev2").criteria.latency_ms == 2000
        assert sev3.rights.acknowledge == ("anyone",)

    def test_example_routing(self) -> None:
        """sev3 on a payments service falls back to the platform default policy."""
        catalog = load_catalog(EXAMPLE)

        def route(service: str, severity: str) -> str | None:
            policy = catalog.policy_for(service, severity)
            return policy.name if policy else None

        assert route("checkout", "sev1") == "payments"
        assert route("checkout", "sev3") == "platform"
        assert route("search", "sev2") == "platform"


class TestBrokenDirectory:
    def test_exact_problem_lines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Every broken file yields exactly the expected `path:line: message` lines."""
        monkeypatch.chdir(ROOT)
        with pytest.raises(ConfigError) as caught:
            load_catalog(BROKEN)
        expected = (ROOT / "tests/fixtures/config/broken.expected").read_text().splitlines()
        assert str(caught.value).splitlines() == expected

    def test_check_prints_same_lines(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """run_check prints the problem lines and returns 1."""
        monkeypatch.chdir(ROOT)
        out = io.StringIO()
        assert run_check(BROKEN, out) == 1
        expected = (ROOT / "tests/fixtures/config/broken.expected").read_text()
        assert out.getvalue() == expected


class TestRunCheck:
    def test_ok_summary(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """A valid directory prints one OK line with counts and returns 0."""
        monkeypatch.chdir(ROOT)
        out = io.StringIO()
        assert run_check("escalation_policies", out) == 0
        assert out.getvalue() == (
            "escalation_policies: OK — 2 policies, 3 schedules, 3 severities, 2 alert sources, 1 scheduled drill, 3 people\n"
        )

    def test_singular_counts(self, tmp_path: Path) -> None:
        """Counts of one are written in the singular."""
        _write(tmp_path, {"p.yaml": _POLICY, "s.yaml": _SEVERITIES})
        out = io.StringIO()
        assert run_check(tmp_path, out) == 0
        assert out.getvalue().endswith("OK — 1 policy, 0 schedules, 1 severity\n")

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A missing directory prints one problem line and returns 1."""
        out = io.StringIO()
        assert run_check(tmp_path / "nope", out) == 1
        assert out.getvalue() == f"{tmp_path}/nope:1: no such directory\n"

    def test_empty_file(self, tmp_path: Path) -> None:
        """An empty YAML file is a problem at line 1, not a crash."""
        _write(tmp_path, {"p.yaml": _POLICY, "s.yaml": _SEVERITIES, "e.yaml": ""})
        out = io.StringIO()
        assert run_check(tmp_path, out) == 1
        assert out.getvalue().startswith(f"{tmp_path}/e.yaml:1: file is empty; expected a policy")


class TestFileEdgeCases:
    def test_naive_datetime_forms_accepted(self, tmp_path: Path) -> None:
        """Both `2026-01-06T09:00` and `2026-01-06 09:00:00` are wall-clock starts."""
        schedules = (
            "schedules:\n  a:\n    timezone: UTC\n    rotations:\n"
            "      - {members: [U1], start: 2026-01-06T09:00, turn: 1d}\n"
            "      - {members: [U2], start: 2026-01-06 09:00:00, turn: 1d}\n"
        )
        files = {"p.yaml": _POLICY, "s.yaml": _SEVERITIES, "sch.yaml": schedules}
        rotations = load_catalog(_write(tmp_path, files)).schedules["a"].rotations
        assert rotations[0].start == rotations[1].start == datetime(2026, 1, 6, 9)  # noqa: DTZ001

    def test_aware_yaml_timestamp_rejected(self, tmp_path: Path) -> None:
        """A YAML timestamp with an offset is rejected at its line, naming the key."""
        schedules = (
            "schedules:\n  a:\n    timezone: UTC\n    rotations:\n"
            "      - members: [U1]\n        start: 2026-01-06 09:00:00+02:00\n        turn: 1d\n"
        )
        files = {"p.yaml": _POLICY, "s.yaml": _SEVERITIES, "sch.yaml": schedules}
        assert _problems(_write(tmp_path, files)) == [
            "sch.yaml:6: schedules.a.rotations[0].start: 2026-01-06T09:00:00+02:00 has a UTC "
            "offset; write wall-clock time like 2026-01-06T09:00, read in the schedule's "
            "timezone, without an offset"
        ]

    def test_missing_directory(self, tmp_path: Path) -> None:
        """A missing directory is one problem, not a traceback."""
        assert _problems(tmp_path / "nope") == [f"{tmp_path}/nope:1: no such directory"]

    def test_directory_without_yaml(self, tmp_path: Path) -> None:
        """A directory with no YAML files says so."""
        _write(tmp_path, {"README.md": "# hi\n"})
        assert _problems(tmp_path) == [f"{tmp_path}:1: no *.yaml or *.yml files here"]

    def test_binary_file(self, tmp_path: Path) -> None:
        """A binary file is reported at the line of the first undecodable byte."""
        _write(tmp_path, {"p.yaml": _POLICY, "s.yaml": _SEVERITIES, "x.yml": b"a: 1\n\xff\xfe"})
        assert _problems(tmp_path) == [
            "x.yml:2: not UTF-8 text (byte 0xff); is this a binary file?"
        ]

    def test_unreadable_file(self, tmp_path: Path) -> None:
        """A file that cannot be read is reported, not raised (here a Unix socket, which no
        one can open as a file: unlike a chmod 0 file, it stays unreadable to root)."""
        _write(tmp_path, {"p.yaml": _POLICY, "s.yaml": _SEVERITIES})
        with socket.socket(socket.AF_UNIX) as sock:
            sock.bind(str(tmp_path / "x.yaml"))
            assert _problems(tmp_path) == ["x.yaml:1: cannot read file: No such device or address"]

    def test_dangling_symlink(self, tmp_path: Path) -> None:
        """A YAML name that points nowhere is reported as unreadable."""
        _write(tmp_path, {"p.yaml": _POLICY, "s.yaml": _SEVERITIES})
        (tmp_path / "x.yaml").symlink_to(tmp_path / "gone.yaml")
        assert _problems(tmp_path) == ["x.yaml:1: cannot read file: No such file or directory"]

    def test_symlink_loop(self, tmp_path: Path) -> None:
        """A YAML name that points at itself is reported as unreadable, not an internal error."""
        _write(tmp_path, {"p.yaml": _POLICY, "s.yaml": _SEVERITIES})
        (tmp_path / "x.yaml").symlink_to(tmp_path / "x.yaml")
        assert _problems(tmp_path) == [
            "x.yaml:1: cannot read file: Too many levels of symbolic links"
        ]

    def test_needs_policy_and_severities(self, tmp_path: Path) -> None:
        """A directory without a policy, or without severities, is incomplete."""
        no_policy = _write(tmp_path / "a", {"s.yaml": _SEVERITIES})
        assert _problems(no_policy) == [
            f"{no_policy}:1: no escalation policy found (a file with name and steps)"
        ]
        no_sev = _write(tmp_path / "b", {"p.yaml": _POLICY})
        assert _problems(no_sev) == [f"{no_sev}:1: no severities found (a file with `severities:`)"]

    def test_severities_in_two_files(self, tmp_path: Path) -> None:
        """Severities split over two files are rejected, since their order would be unclear."""
        _write(tmp_path, {"p.yaml": _POLICY, "s1.yaml": _SEVERITIES, "s2.yaml": _SEVERITIES})
        assert _problems(tmp_path) == [
            "s2.yaml:1: severities are already defined in "
            f"{tmp_path}/s1.yaml; keep them in one file, most severe first"
        ]

    def test_service_listed_twice(self, tmp_path: Path) -> None:
        """A service listed twice in one policy is reported at the second mention."""
        policy = _POLICY.replace("[web]", "[web, web]")
        _write(tmp_path, {"p.yaml": policy, "s.yaml": _SEVERITIES})
        assert _problems(tmp_path) == [
            "p.yaml:2: services[1]: service 'web' is listed twice in this policy"
        ]

    def test_wrong_types_are_named(self, tmp_path: Path) -> None:
        """Wrong scalar types name what was expected and what was found."""
        policy = _POLICY.replace("    wait: 5m\n", "    wait: 5\nrepeat: 'two'\n")
        _write(tmp_path, {"p.yaml": policy, "s.yaml": _SEVERITIES})
        assert _problems(tmp_path) == [
            "p.yaml:5: steps[0].wait: 5 is not a duration; add a unit, like 5m or 5s",
            "p.yaml:6: repeat: expected a whole number, got 'two'",
        ]


class TestYamlMap:
    def test_lines_per_path(self) -> None:
        """Values get their own line; block collections get their key's line."""
        loaded = load_yaml("a: 1\nb:\n  - x\n  - c: 2\n", "f.yaml")
        assert loaded.lines.line(("a",)) == 1
        assert loaded.lines.line(("b",)) == 2
        assert loaded.lines.line(("b", 1, "c")) == 4
        assert loaded.lines.line(("b", 1, "missing")) == 4

    def test_duplicate_key(self) -> None:
        """A duplicate key is an error at its second occurrence."""
        with pytest.raises(YamlProblem, match=r"f.yaml:3: a: duplicate key 'b' \(first at line 2"):
            load_yaml("a:\n  b: 1\n  b: 2\n", "f.yaml")

    def test_unbuildable_scalar(self) -> None:
        """A scalar PyYAML cannot build (an impossible date) is reported at its line."""
        with pytest.raises(YamlProblem, match=r"f.yaml:2: cannot read '2026-02-30'"):
            load_yaml("a: 1\nb: 2026-02-30\n", "f.yaml")


class TestDrills:
    def test_the_example_drill_loads(self) -> None:
        """drills.yaml: Tuesdays at 15:00 in Chicago, a drill of platform at sev3."""
        (drill,) = load_catalog(EXAMPLE).drills
        assert (drill.policy, drill.severity, drill.cron) == ("platform", "sev3", "0 15 * * 2")
        assert drill.timezone == "America/Chicago"

    def test_bad_drills_are_named_at_their_lines(self, tmp_path: Path) -> None:
        """A policy or severity not defined elsewhere, a cron croniter refuses, a bad zone."""
        drills = (
            "drills:\n"
            '  - {policy: web, severity: sev1, cron: "0 15 * * 2"}\n'
            "  - policy: nosuch\n"
            "    severity: sev9\n"
            '    cron: "0 15 * * 2"\n'
            '  - {policy: web, severity: sev1, cron: "61 * * * *"}\n'
            '  - {policy: web, severity: sev1, cron: "0 15 * * 2", timezone: Mars/Base}\n'
        )
        directory = _write(
            tmp_path / "c", {"p.yaml": _POLICY, "s.yaml": _SEVERITIES, "drills.yaml": drills}
        )
        shape = _problems(directory)
        assert shape[0].startswith("drills.yaml:6: drills[2].cron: '61 * * * *' is not a cron")
        assert shape[1].startswith("drills.yaml:7: drills[3].timezone: unknown timezone")
        assert len(shape) == 2  # a file of the wrong shape is not cross-checked
        _write(directory, {"drills.yaml": "\n".join(drills.splitlines()[:5])})
        found = _problems(directory)
        assert found[0].startswith("drills.yaml:3: drills[1].policy: unknown policy 'nosuch'")
        assert found[1].startswith("drills.yaml:4: drills[1].severity: unknown severity 'sev9'")

    def test_the_self_test_loads_and_its_bad_lines_are_named(self, tmp_path: Path) -> None:
        """`self_test:` alone makes a drills file; its cron, duration and channel are
        checked where they stand, and its schedules against the schedules defined."""
        schedules = (
            "schedules:\n  ops:\n    timezone: UTC\n"
            "    rotations: [{members: [U0LEAD1], start: 2020-01-06T00:00, turn: 1w}]\n"
        )
        good = 'self_test: {cron: "0 10 * * 1", answer_within: 1h, report_channel: C0OPS}\n'
        files = {"p.yaml": _POLICY, "s.yaml": _SEVERITIES, "o.yaml": schedules}
        directory = _write(tmp_path / "c", {**files, "drills.yaml": good})
        test = load_catalog(directory).self_test
        assert test is not None
        assert (test.cron, test.answer_within_s, test.schedules) == ("0 10 * * 1", 3600.0, None)
        assert test.report_channel == "C0OPS"
        bad = 'self_test:\n  cron: "0 10 * *"\n  answer_within: soon\n'
        _write(directory, {"drills.yaml": bad})
        shape = _problems(directory)
        assert shape[0].startswith("drills.yaml:2: self_test.cron: '0 10 * *' is not a cron")
        assert shape[1].startswith("drills.yaml:3: self_test.answer_within:")
        unknown = 'self_test:\n  cron: "0 10 * * 1"\n  schedules: [ops, opps]\n'
        _write(directory, {"drills.yaml": unknown})
        (found,) = _problems(directory)
        assert found.startswith("drills.yaml:3: self_test.schedules[1]: unknown schedule 'opps'")
        assert "did you mean 'ops'?" in found


class TestSchema:
    def test_structure(self) -> None:
        """The schema is JSON with a dialect, a title and one anyOf branch per file kind."""
        schema = json.loads(json.dumps(json_schema()))
        assert schema["$schema"].startswith("https://json-schema.org/")
        assert schema["title"]
        assert schema["description"]
        refs = [branch["$ref"] for branch in schema["anyOf"]]
        assert refs == [
            "#/$defs/PolicyFile",
            "#/$defs/SchedulesFile",
            "#/$defs/SeveritiesFile",
            "#/$defs/AlertsFile",
            "#/$defs/DrillsFile",
            "#/$defs/ServicesFile",
            "#/$defs/PeopleFile",
        ]

    def test_refs_resolve(self) -> None:
        """Every $ref points at a definition that exists."""
        schema = json_schema()
        text = json.dumps(schema)
        for ref in set(re.findall(r'"\$ref": "#/\$defs/([^"]+)"', text)):
            assert ref in schema["$defs"]

    def test_example_files_fit_a_branch(self) -> None:
        """Each example file's top-level keys fit one branch (required present, none extra)."""
        schema = json_schema()
        branches = [schema["$defs"][b["$ref"].rsplit("/", 1)[1]] for b in schema["anyOf"]]
        for path in sorted(EXAMPLE.glob("*.yaml")):
            keys = set(yaml.safe_load(path.read_text()))
            assert any(
                set(b.get("required", [])) <= keys <= set(b["properties"])
                and b.get("additionalProperties") is False
                for b in branches
            ), path.name

    def test_descriptions(self) -> None:
        """Models and custom fields carry descriptions for editors."""
        defs = json_schema()["$defs"]
        assert defs["StepModel"]["properties"]["wait"]["description"]
        assert defs["RotationModel"]["properties"]["start"]["pattern"]
        assert defs["PolicyFile"]["title"] == "Escalation policy"


_CHARS = st.sampled_from([*":-[]{},'\"#&*!|>\n\t ", "  ", "\n  ", "5m", "x", "0", "~"])
_MUTATION = st.tuples(st.sampled_from(["insert", "delete", "replace"]), st.floats(0, 1), _CHARS)
_YAML_VALUE = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner),
    max_leaves=12,
)


def _mutate(text: str, mutations: list[tuple[str, float, str]]) -> str:
    for op, where, chars in mutations:
        at = int(where * len(text))
        if op == "insert":
            text = text[:at] + chars + text[at:]
        elif op == "delete":
            text = text[:at] + text[at + len(chars) :]
        else:
            text = text[:at] + chars + text[at + len(chars) :]
    return text


def _load_outcome(files: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        directory = _write(Path(tmp), {n: c for n, c in files.items()})
        try:
            assert isinstance(load_catalog(directory), Catalog)
        except ConfigError as exc:
            lines = str(exc).splitlines()
            assert lines
            assert all(LINE.match(line) for line in lines), lines
        assert run_check(directory, io.StringIO()) in (0, 1)


_EXAMPLES = {p.name: p.read_text() for p in sorted(EXAMPLE.glob("*.yaml"))}


class TestRobustness:
    @settings(
        max_examples=150,
        deadline=None,
        # keeps the loaded profile's suppressions (make mutate's) and adds too_slow
        suppress_health_check=[*settings.default.suppress_health_check, HealthCheck.too_slow],
    )
    @given(
        name=st.sampled_from(sorted(_EXAMPLES)),
        mutations=st.lists(_MUTATION, min_size=1, max_size=4),
    )
    def test_mutated_examples(self, name: str, mutations: list[tuple[str, float, str]]) -> None:
        """Random edits of an example file give a Catalog or path:line problems, nothing else."""
        _load_outcome({**_EXAMPLES, name: _mutate(_EXAMPLES[name], mutations)})

    @settings(max_examples=100, deadline=None)
    @given(value=_YAML_VALUE, kind=st.sampled_from(["name", "schedules", "severities", "x"]))
    def test_garbage_documents(self, value: object, kind: str) -> None:
        """Arbitrary YAML documents under any top-level key never raise another exception."""
        document = yaml.safe_dump(
            {kind: value, "steps": value} if kind == "name" else {kind: value}
        )
        _load_outcome({**_EXAMPLES, "zz.yaml": document})

    @settings(max_examples=100, deadline=None)
    @given(text=st.text(st.characters(exclude_categories=["Cs"]), max_size=80))
    def test_garbage_text(self, text: str) -> None:
        """Arbitrary text in a config file never raises another exception."""
        _load_outcome({**_EXAMPLES, "zz.yaml": text})
