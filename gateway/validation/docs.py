"""Renders ``docs/rules.md`` from the rule catalogue, so the documentation cannot drift from the code.

Regenerate with ``gateway rules docs``; ``gateway rules docs --check`` and the unit tests fail on drift.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gateway.validation.config import GlobalSettings
from gateway.validation.rule import ALL_EVENT_TYPES, Rule

_HEADER = """# Validation rules

<!-- GENERATED from gateway/validation by `gateway rules docs`; do not edit by hand. -->

The validation stage runs these rules on every canonical event. A rule with severity **ERROR** sends the record
to the dead-letter queue (the DLQ headers carry the rule ids and legal references); a **WARNING** lets the event
go on, carrying the finding in `validation_warnings`. Every rule can be switched off, given another severity and,
where it has parameters, parameterised per deployment under its configuration key (see
`gateway/validation/config.py`); unknown rule ids and parameters are rejected at start-up.

A legal reference followed by a bracketed caveat, such as "(to be confirmed)", rests on a provision that was not
verified against the Official Journal; the behaviour behind it is configurable for that reason. The Eurodac
element on return and reintegration assistance is cited as "Reg. 2024/1358 Art. 16-17 (point to be confirmed)".

## Conventions

- **Dates never shift by a day.** A `date` is a calendar date in the legal calendar of the case's Member State
  and is never converted through a time zone. A `datetime` is an instant; instants are compared in UTC. To compare
  an instant with a date, the instant is turned into the calendar date it falls on in the Member State's time
  zone (`settings.time_zones`); "today" is the calendar date of `now` there. So a decision dated 2 March is not
  in the future at 23:30 UTC on 1 March in Amsterdam (00:30 on 2 March local time).
- **The clock is an argument.** The engine takes `now` from its caller; no rule reads the system clock.
- **Partial dates of birth** are read conservatively: for an age check, the latest day the date can stand for
  (year only: 31 December; year and month: the month's last day); for "not in the future", the earliest day.
- **Cross-event rules** read a `CaseState` the pipeline keeps per `(member_state, case_reference)`, folded from
  the case's accepted events (`gateway.validation.state.fold`).
- **Programme catalogue.** Rules marked "needs the programme catalogue" run only when the configuration names
  one (`programme_catalogue`, format in `gateway/validation/data/programmes.example.toml`).

## Use from the pipeline

```python
engine = ValidationEngine(load_config(path), load_programmes(catalogue))   # once, at start-up
findings = engine.validate(event, state_before_event, now)                 # per event; pure
if errors(findings):
    raise rule_violation(findings)      # RuleViolationError: rule ids and legal references for the DLQ headers
event = apply_warnings(event, findings) # warnings travel in event.validation_warnings
state = fold(state_before_event, event) # only for accepted events
```

`gateway.validation.stage.RuleStage` does exactly this per record, keeps the case states and counts findings
by rule and connector (`FindingCounter`); `group_by_rule(findings)` groups them for the `gateway validate` report.
An example configuration is `gateway/validation/data/validation.example.toml`.
"""


def _value(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _params(rule: Rule[Any]) -> str:
    dumped = rule.params.model_dump(mode="json")
    if not dumped:
        return "none"
    return "; ".join(f"`{k} = {_value(v)}`" for k, v in dumped.items())


def _event_types(rule: Rule[Any]) -> str:
    if rule.event_types >= ALL_EVENT_TYPES:
        return "all"
    return ", ".join(f"`{t}`" for t in sorted(rule.event_types))


def _settings() -> str:
    lines = ["## Shared settings (`settings`)", ""]
    defaults = GlobalSettings().model_dump(mode="json")
    for name, field in GlobalSettings.model_fields.items():
        default = defaults[name]
        shown = "one IANA zone per Member State (capitals)" if name == "time_zones" else f"`{_value(default)}`"
        lines.append(f"- `{name}` (default {shown}): {field.description or ''}".rstrip())
    return "\n".join(lines) + "\n"


def render_rules_markdown(groups: Sequence[tuple[str, Sequence[Rule[Any]]]]) -> str:
    """The full text of ``docs/rules.md`` for a catalogue given as (area title, rules) pairs."""
    rules = [r for _, rs in groups for r in rs]
    out = [_HEADER, _settings(), f"## Summary ({len(rules)} rules)", ""]
    out += ["| Id | Severity | Rule | Legal reference |", "| --- | --- | --- | --- |"]
    out += [f"| [{r.id}](#{r.id.lower()}) | {r.severity} | {r.title} | {r.legal} |" for r in rules]
    for title, group in groups:
        out += ["", f"## {title}"]
        for r in group:
            out += [
                "",
                f"### {r.id}",
                "",
                f"**{r.title}.** {r.description}",
                "",
                f"- Severity: {r.severity}{'' if r.enabled else ' (disabled by default)'}",
                f"- Legal reference: {r.legal}",
                f"- Field: `{r.path}`",
                f"- Event types: {_event_types(r)}",
                f"- Configuration key: `{r.config_key}`",
                f"- Parameters (defaults): {_params(r)}",
            ]
            if r.needs_programmes:
                out.append("- Needs the programme catalogue: yes (off when none is configured)")
    return "\n".join(out) + "\n"
