"""Audit log entries in the words of the people who read them (the supervisor's audit view, `station` output).

    from console.events import describe_event
    describe_event({"action": "job.queued", "subject": "5203…", "actor": "siti", "data": {...}})
    # "NIK 5203… masuk antrian cetak"

Each action has a message `audit.event.<action>` in the catalogue; its placeholders are the entry's `subject`,
`actor` and the names of its data, shown for people: counts grouped (`console.formats.count`), times in the
station's zone (`console.formats.moment`), lists joined. A placeholder the entry lacks shows "-"; an action the
catalogue does not know is named as it is, so that nothing recorded is hidden. The log itself keeps the names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from string import Formatter
from typing import Any

from console.formats import count, moment
from console.i18n import DEFAULT_LANGUAGE, catalogue, current_language, t

_ISO_TIME = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}")


def describe_event(entry: Mapping[str, Any]) -> str:
    """One audit entry (a row of the `audit` table, its `data` a dict or its JSON) as a sentence for people."""
    action = entry["action"]
    texts = catalogue().get(f"audit.event.{action}")
    if texts is None:
        return t("audit.event_unknown", action=action, subject=entry.get("subject") or "-")
    template = texts.get(current_language()) or texts[DEFAULT_LANGUAGE]
    data = entry.get("data") or {}
    if isinstance(data, str):
        data = json.loads(data)
    values = {name: _for_people(value) for name, value in data.items()}
    values["subject"] = _subject(entry.get("subject"))
    values["actor"] = entry.get("actor") or "-"
    wanted = {field for _, field, _, _ in Formatter().parse(template) if field}
    return template.format(**{name: values.get(name, "-") for name in wanted})


def _subject(subject: str | None) -> str:
    if not subject:
        return "-"
    return subject.removeprefix("operator:")


def _for_people(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return t("audit.yes") if value else t("audit.no")
    if isinstance(value, int):
        return count(value)
    if isinstance(value, str) and _ISO_TIME.match(value):
        return moment(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(_for_people(v) for v in value)
    return str(value)
