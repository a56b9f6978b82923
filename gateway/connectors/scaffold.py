"""``gateway connectors new``: write a connector package to start from, complete and passing the conformance kit.

The package reads a small ``;``-separated UTF-8 CSV (one event per row, a header line) with the three hooks, a
configuration model whose defaults name the Member State it imitates and its time zone, typed code tables over
``codes.toml``, the shared value readers (dates, local times with a summer-time policy, country codes), an
example export with its golden expected events, and a test that runs the kit. A national team replaces the
format, keeps the shape.

``plan`` is pure (the files as text); ``write`` puts them on disk; the golden expected file is computed by the
generated connector itself, in a child interpreter, so the scaffold never imports code it just wrote.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Final

from gateway.errors import ConfigError
from gateway.events.models import MemberState
from gateway.events.zones import DEFAULT_TIME_ZONES

NAME_PATTERN: Final = re.compile(r"[a-z][a-z0-9]*(-[a-z0-9]+)*")
"""Connector names: lower-case words joined by hyphens (``be-csv``), as entry-point names."""

EXAMPLE: Final = "tests/golden/example.csv"
"""Where the scaffold puts its example export, relative to the package folder."""


@dataclass(frozen=True, slots=True)
class Names:
    """The names a connector called ``name`` gets.

    Attributes:
        name: Connector (entry-point) name, e.g. ``be-csv``.
        package: Python package, e.g. ``gw_connector_be_csv``.
        cls: Connector class, e.g. ``BeCsvConnector``.
        distribution: Distribution name, e.g. ``returns-gateway-connector-be-csv``.
        member_state: Member State whose system it imitates.
        timezone: IANA zone of that system's local times.
    """

    name: str
    package: str
    cls: str
    distribution: str
    member_state: MemberState
    timezone: str

    @classmethod
    def of(cls, name: str, member_state: str | None = None, timezone: str | None = None) -> Names:
        """The names of a new connector; the Member State defaults to the name's first word (``be-csv``: BE).

        Raises:
            ConfigError: The name is not lower-case words joined by hyphens, or no Member State can be told.
        """
        if not NAME_PATTERN.fullmatch(name):
            raise ConfigError(f"connector name {name!r} must be lower-case words joined by hyphens, e.g. be-csv")
        state = member_state or name.split("-")[0].upper()
        try:
            ms = MemberState(state.upper())
        except ValueError:
            raise ConfigError(
                f"cannot tell the Member State of {name!r} from {state!r}: pass --member-state (e.g. BE)"
            ) from None
        words = name.split("-")
        return cls(
            name=name,
            package="gw_connector_" + "_".join(words),
            cls="".join(w.capitalize() for w in words) + "Connector",
            distribution=f"returns-gateway-connector-{name}",
            member_state=ms,
            timezone=timezone or DEFAULT_TIME_ZONES.get(ms, "UTC"),
        )


def plan(names: Names) -> dict[str, str]:
    """The files of the package, path (relative to its folder) -> text; the golden expected file excepted."""
    values = {
        "name": names.name,
        "package": names.package,
        "cls": names.cls,
        "config_cls": names.cls.removesuffix("Connector") + "Config",
        "distribution": names.distribution,
        "ms": names.member_state.value,
        "zone": names.timezone,
    }
    src = f"src/{names.package}"
    files = {
        "pyproject.toml": _PYPROJECT,
        "README.md": _README,
        f"{src}/__init__.py": _INIT,
        f"{src}/config.py": _CONFIG,
        f"{src}/connector.py": _CONNECTOR,
        f"{src}/codes.toml": _CODES,
        f"{src}/py.typed": "",
        EXAMPLE: _EXAMPLE,
        "tests/test_conformance.py": _TEST,
    }
    return {path: Template(text).substitute(values) for path, text in files.items()}


def write(names: Names, folder: Path) -> list[Path]:
    """Write a new connector package into ``folder`` (which must not exist or be empty), golden file included.

    Returns:
        The files written, the golden expected file last.

    Raises:
        ConfigError: ``folder`` is not empty.
        RuntimeError: The generated connector could not compute its golden file (a bug of the templates).
    """
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(f"{folder} is not empty; the scaffold writes only into a new folder")
    written = []
    for relative, text in plan(names).items():
        path = folder / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    written.append(_write_golden(names, folder))
    return written


def _write_golden(names: Names, folder: Path) -> Path:
    # The package is not installed yet: put its src folder on the child's path instead.
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        f"from {names.package} import {names.cls} as C\n"
        "from gateway.testing.conformance import write_golden\n"
        "print(write_golden(C(C.config_model()), Path(sys.argv[1])))\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(folder / "src"), os.environ.get("PYTHONPATH")])),
    }
    done = subprocess.run(
        [sys.executable, "-c", code, str(folder / EXAMPLE)], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"the generated connector failed to write its golden file:\n{done.stderr}")
    return Path(done.stdout.strip())


_PYPROJECT = """\
[build-system]
requires = ["setuptools>=77"]
build-backend = "setuptools.build_meta"

[project]
name = "$distribution"
version = "0.1.0"
description = "Connector $name: $ms return case-management CSV exports to canonical return-case events."
readme = "README.md"
requires-python = ">=3.11"
dependencies = ["returns-gateway"]

# How the gateway finds the connector: `gateway connectors list` shows it once the package is installed.
[project.entry-points."gateway.connectors"]
$name = "$package:$cls"

[tool.setuptools.packages.find]
where = ["src"]

[tool.setuptools.package-data]
$package = ["codes.toml", "py.typed"]
"""

_README = """\
# Connector `$name`

Reads `;`-separated UTF-8 CSV exports of the $ms return case-management system, one event per row after a
header line, into canonical events. Written by `gateway connectors new $name`; see `docs/connectors.md` of the
gateway for the contract, the value readers, code tables, the conformance kit and the golden files.

| column | meaning |
|---|---|
| `dossier` | national case reference |
| `person` | national person identifier (pseudonymised by the gateway) |
| `event` | `STATUS` (decision status changed) or `DEPARTURE` (departure confirmed) |
| `timestamp` | local time in $zone, `dd/mm/yyyy HH:MM[:SS]` |
| `decision` | return decision reference (required for `STATUS`) |
| `status` | decision status code (`codes.toml` `[decision_status]`) |
| `effective_date` | date the status applies from, `dd/mm/yyyy` or `yyyy-mm-dd` |
| `return_type` | return type code (`codes.toml` `[return_type]`) |
| `destination` | country of destination, ISO 3166-1 alpha-3 |
| `assisted` | `Y` or `N` |

```bash
pip install -e .                                          # registers the entry point
pytest tests                                              # the gateway's conformance kit, golden tier included
gateway connectors golden $name $example --write   # after a deliberate change: rewrite, then review the diff
```
""".replace("$example", EXAMPLE)

_INIT = '''\
"""Connector ``$name``: $ms return case-management CSV exports to canonical events."""

from $package.connector import $cls

__all__ = ["$cls"]
'''

_CONFIG = '''\
"""Configuration of the ``$name`` connector."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import field_validator

from gateway.connectors import DATE_FORMATS, AmbiguousLocalTime, ConnectorConfig
from gateway.events.models import MemberState


class $config_cls(ConnectorConfig):
    """Settings of ``$name``, beyond those every connector has.

    Attributes:
        member_state: Member State whose system the exports come from: the one this connector imitates.
        timezone: IANA zone of the export's local times (they carry no offset).
        ambiguous_local_time: How to read a local time in the hour repeated when summer time ends.
        date_formats: Accepted date forms, tried in order (keys of ``gateway.connectors.DATE_FORMATS``).
    """

    member_state: MemberState = MemberState.$ms
    timezone: str = "$zone"
    ambiguous_local_time: AmbiguousLocalTime = "earlier"
    date_formats: tuple[str, ...] = ("dd/mm/yyyy", "yyyy-mm-dd")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    @field_validator("date_formats")
    @classmethod
    def _known_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = set(value) - set(DATE_FORMATS)
        if unknown or not value:
            raise ValueError(f"date formats must be some of {sorted(DATE_FORMATS)}, not {sorted(unknown)}")
        return value
'''

_CONNECTOR = '''\
"""``$cls``: one event per row of a ``;``-separated UTF-8 CSV export with a header line.

``read`` cuts the export into rows (the header travels as each row's ``context``), ``parse`` splits a row into
named fields, ``map`` turns them into one ``Fact``. Bad data raises ``ParseError`` or ``MappingError`` naming
the column; the gateway makes a dead letter of it. A model the values cannot build (pydantic's
``ValidationError``) becomes a dead letter too.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as _dist_version
from typing import Any, BinaryIO, ClassVar, TypeVar
from zoneinfo import ZoneInfo

from gateway.connectors import (
    CodeList,
    CodeLists,
    Connector,
    ConnectorConfig,
    Fact,
    LocalTime,
    MappingError,
    ParseError,
    RawRecord,
    country_code,
    local_to_utc,
    parse_date,
)
from gateway.events import models as m
from $package.config import $config_cls

COLUMNS: tuple[str, ...] = (
    "dossier",
    "person",
    "event",
    "timestamp",
    "decision",
    "status",
    "effective_date",
    "return_type",
    "destination",
    "assisted",
)
"""The columns, in the order a header-less row (a message from a raw topic) has them."""

T = TypeVar("T")


def _version() -> str:
    try:
        return _dist_version("$distribution")
    except PackageNotFoundError:  # imported from a source tree that is not installed
        return "0.0.0"


class Codes(CodeLists):
    """The code tables this format uses (``codes.toml``): only these are required."""

    decision_status: CodeList[m.DecisionStatus]
    return_type: CodeList[m.ReturnType]


class $cls(Connector[$config_cls]):
    """$ms return case-management CSV exports (see the README)."""

    name: ClassVar[str] = "$name"
    version: ClassVar[str] = _version()
    formats: ClassVar[tuple[str, ...]] = ("csv",)
    config_model: ClassVar[type[ConnectorConfig]] = $config_cls

    def __init__(self, config: $config_cls) -> None:
        super().__init__(config)
        self._zone = ZoneInfo(config.timezone)
        self._codes = Codes.from_package("$package")

    def read(self, stream: BinaryIO, source: str) -> Iterator[RawRecord]:
        """Cut an export into data rows, line by line (blank lines are skipped)."""
        header = stream.readline().rstrip(b"\\r\\n")
        index = 0
        for number, line in enumerate(stream, start=2):
            data = line.rstrip(b"\\r\\n")
            if data.strip():
                yield RawRecord(data, source, f"line {number}", index, "utf-8", header)
                index += 1

    def parse(self, record: RawRecord) -> dict[str, str]:
        """Decode and split a row; name its fields by the file's header (or ``COLUMNS`` without one)."""
        try:
            text = record.data.decode("utf-8")
            header = record.context.decode("utf-8").removeprefix("\\ufeff")
        except UnicodeDecodeError as exc:
            raise ParseError(f"not UTF-8 at byte {exc.start}", position=record.position) from None
        names = next(csv.reader([header], delimiter=";")) if header else list(COLUMNS)
        missing = set(COLUMNS) - set(names)
        if missing:
            raise ParseError(f"header lacks columns {sorted(missing)}", position=record.position)
        fields = next(csv.reader([text], delimiter=";"), [])
        if len(fields) != len(names):
            raise ParseError(f"{len(fields)} fields, the header has {len(names)}", position=record.position)
        return {name: value.strip() for name, value in zip(names, fields, strict=True)}

    def map(self, parsed: Any) -> list[Fact]:
        """Map a row to its one fact."""
        row: Mapping[str, str] = parsed
        local = _read(lambda: self._local_time(row["timestamp"], "timestamp"))
        payload: m.Payload
        if row["event"] == "STATUS":
            payload = m.ReturnDecisionStatusChanged(
                decision_reference=_required(row, "decision"),
                status=self._codes.decision_status.canonical(row["status"], "status"),
                effective_date=_read(lambda: self._date(row["effective_date"], "effective_date")),
            )
        elif row["event"] == "DEPARTURE":
            payload = m.DepartureConfirmed(
                departed_at=local.utc,
                return_type=self._codes.return_type.canonical(row["return_type"], "return_type"),
                assisted=_flag(row["assisted"], "assisted"),
                destination_country=country_code(row["destination"]) or None,
                decision_reference=row["decision"] or None,
            )
        else:
            raise MappingError(f"event: unknown event kind {row['event']!r} (known: STATUS, DEPARTURE)")
        warnings = () if local.warning is None else (local.warning,)
        return [Fact(_required(row, "dossier"), _required(row, "person"), local.utc, payload, warnings)]

    def _date(self, text: str, field: str) -> dt.date:
        return parse_date(text, field, self.config.date_formats)

    def _local_time(self, text: str, field: str) -> LocalTime:
        day, _, clock = text.partition(" ")
        try:
            time = dt.time.fromisoformat(clock)
        except ValueError:
            raise ValueError(f"{field}: {text!r} is not a date and time like 31/12/2025 14:30") from None
        naive = dt.datetime.combine(self._date(day, field), time)
        return local_to_utc(naive, field, self._zone, self.config.ambiguous_local_time)


def _read(reader: Callable[[], T]) -> T:
    # The shared value readers raise ValueError naming the field; for the gateway that is bad data.
    try:
        return reader()
    except ValueError as exc:
        raise MappingError(str(exc)) from None


def _required(row: Mapping[str, str], field: str) -> str:
    if not row[field]:
        raise MappingError(f"{field} is required")
    return row[field]


def _flag(text: str, field: str) -> bool:
    if text not in ("Y", "N"):
        raise MappingError(f"{field}: {text!r} is not Y or N")
    return text == "Y"
'''

_CODES = """\
# National code = canonical symbol, one table per code list the format uses (see the Codes class).
# Extend a list by adding a line here; a symbol the canonical enum lacks fails when the connector is built.

[decision_status]
SUSP = "SUSPENDED"
POSTP = "ENFORCEMENT_POSTPONED"
RESUM = "RESUMED"
WITHDR = "WITHDRAWN"
ANNUL = "ANNULLED"

[return_type]
VOL = "VOLUNTARY"
FORCED = "ENFORCED"
"""

# Row 4 is in the hour repeated when summer time ends (a warning on its event); rows 6 and 7 are dead letters.
_EXAMPLE = """\
dossier;person;event;timestamp;decision;status;effective_date;return_type;destination;assisted
$ms-2025-0001;P-1001;STATUS;14/03/2025 10:30;RD-2025-0001;SUSP;14/03/2025;;;
$ms-2025-0001;P-1001;STATUS;20/03/2025 09:00;RD-2025-0001;RESUM;2025-03-20;;;
$ms-2025-0001;P-1001;DEPARTURE;26/10/2025 02:30;RD-2025-0001;;;VOL;mar;Y
$ms-2025-0002;P-1002;DEPARTURE;02/07/2025 18:45;;;;FORCED;ALB;N
$ms-2025-0003;P-1003;STATUS;15/04/2025 11:00;RD-2025-0003;XYZ;15/04/2025;;;
$ms-2025-0004;P-1004;DEPARTURE;31/02/2025 08:00;;;;VOL;SRB;Y
"""

_TEST = '''\
"""The gateway's conformance kit: contract, golden files, purity (this connector renders no samples)."""

from pathlib import Path
from types import MappingProxyType

from $package import $cls

from gateway.testing.conformance import ConnectorConformance


class Test$cls(ConnectorConformance):
    """Defaults only: the configuration model says which Member State and zone the connector imitates."""

    connector_cls = $cls
    config = MappingProxyType({})
    golden_dir = Path(__file__).parent / "golden"
'''
