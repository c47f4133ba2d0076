"""The custody tables against the audit log (console/audit_state.py replays the rest): the batch releases, the
hand-over records, each card's custody and the destruction records with the cards they destroyed.

Each of these rows is written in the transaction of its audit entry (console/custody.py, batches.py,
destruction.py), so the entries give every row's fields the station keeps; a row whose fields differ, a row the
log never recorded, or a recorded row missing is an edit made outside the station, and is named.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from console.i18n import t

Fields = dict[str, Any]


@dataclass
class CustodyReplay:
    releases: dict[str, Fields] = field(default_factory=dict)  # batch → fields
    handovers: dict[int, Fields] = field(default_factory=dict)
    custody: dict[int, Fields] = field(default_factory=dict)  # job → fields
    destructions: dict[int, Fields] = field(default_factory=dict)
    destroyed: dict[str, Fields] = field(default_factory=dict)  # "job N" or "blank N" → destruction
    blanks_unnamed: set[int] = field(default_factory=set)  # destructions logged before their blanks were named

    def entry(self, action: str, subject: str | None, actor: str, data: dict[str, Any]) -> None:
        if action == "batch.released":
            self.releases[str(subject)] = {"released_by": actor, "early": bool(data.get("early")),
                                           "reason": data.get("reason"), "blocking": len(data.get("blocking") or ())}  # fmt: skip
        elif action == "handover.issued":
            self.handovers[data["handover"]] = {
                "batch": subject,
                "received_by": data.get("received_by"),
                "actor": actor,
                "cards": data.get("cards"),
                **{key: data.get(word) for key, word in _PAPER_FIELDS},
            }
        elif action == "card.issued_to_village":
            self.custody[data["job"]] = {"nik": subject, "state": "issued_to_village",
                                         "handover_id": data.get("handover"), "issued_by": actor}  # fmt: skip
        elif action == "card.collected":
            card = self.custody.setdefault(data["job"], {"nik": subject, "handover_id": None, "issued_by": None})
            card.update(state="collected", collected_by=actor, proxy_relation=data.get("relation"),
                        proxy_letter=data.get("letter"), slip_sha256=data.get("slip_sha256"))  # fmt: skip
            if "collector" in data:  # entries made before the collector was written down say the proxy alone
                card["collector"] = data["collector"]
            elif data.get("proxy"):
                card["collector"] = data["proxy"]
        elif action == "card.destroyed":
            self.destroyed[f"job {data['job']}"] = {"destruction_id": data.get("destruction")}
        elif action == "destruction.made":
            self.destructions[data["destruction"]] = {
                "allocation_id": subject,
                "report_id": data.get("report"),
                "actor": actor,
                "witnesses": data.get("witnesses"),
                "cards": data.get("cards"),
                "blanks": data.get("blanks"),
                **{key: data.get(word) for key, word in _PAPER_FIELDS},
            }
            if "blank_ids" not in data:
                self.blanks_unnamed.add(data["destruction"])
            for blank in data.get("blank_ids", ()):
                self.destroyed[f"blank {blank}"] = {"destruction_id": data["destruction"]}


_PAPER_FIELDS = (("pdf_name", "pdf"), ("pdf_sha256", "pdf_sha256"), ("csv_name", "csv"), ("csv_sha256", "csv_sha256"))


def _compare(table: str, stored: dict[Any, Fields], said: dict[Any, Fields]) -> list[str]:
    found = []
    for key in sorted(set(stored) | set(said), key=str):
        have, told = stored.get(key), said.get(key)
        if have is None:
            found.append(t("audit_state.record_missing", table=table, key=key, audit=_words(told or {})))
        elif told is None:
            found.append(t("audit_state.record_unknown", table=table, key=key, row=_words(have)))
        else:
            differ = [name for name in told if name in have and have[name] != told[name]]
            if differ:
                found.append(t("audit_state.record_differs", table=table, key=key,
                               row=_words({n: have[n] for n in differ}), audit=_words({n: told[n] for n in differ})))  # fmt: skip
    return found


def _by_job(rows: dict[int, Fields]) -> dict[str, Fields]:
    return {f"job {job}": fields for job, fields in rows.items()}


def _words(fields: Fields) -> str:
    return ", ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in fields.items())


async def differences(db: Any, replay: CustodyReplay) -> list[str]:
    """Each custody row that differs from the audit log, in words; [] if none."""
    releases = {
        r["batch"]: {"released_by": r["released_by"], "early": bool(r["early"]), "reason": r["reason"],
                     "blocking": r["blocking"]}
        for r in await db.fetchall("SELECT * FROM batch_releases")
    }  # fmt: skip
    handovers = {
        r["id"]: {name: r[name] for name in ("batch", "received_by", "actor", "cards", *dict(_PAPER_FIELDS))}
        for r in await db.fetchall("SELECT * FROM handovers")
    }
    custody_columns = ("nik", "state", "handover_id", "issued_by", "collected_by", "collector", "proxy_relation",
                       "proxy_letter", "slip_sha256")  # fmt: skip
    custody = {
        r["job_id"]: {name: r[name] for name in custody_columns}
        for r in await db.fetchall("SELECT * FROM card_custody")
    }
    destructions = {
        r["id"]: {
            **{name: r[name] for name in ("allocation_id", "report_id", "actor", "cards", "blanks",
                                          *dict(_PAPER_FIELDS))},
            "witnesses": json.loads(r["witnesses"]),
        }
        for r in await db.fetchall("SELECT * FROM destructions")
    }  # fmt: skip
    rows = await db.fetchall("SELECT destruction_id, job_id, spoiled_id FROM destroyed")
    destroyed = {
        (f"job {r['job_id']}" if r["job_id"] is not None else f"blank {r['spoiled_id']}"): {
            "destruction_id": r["destruction_id"]
        }
        for r in rows
    }
    destroyed = {  # a destruction whose entry counts its blanks without naming them: its cards alone
        key: value
        for key, value in destroyed.items()
        if key.startswith("job ") or value["destruction_id"] not in replay.blanks_unnamed
    }
    return [
        *_compare("batch_releases", releases, replay.releases),
        *_compare("handovers", handovers, replay.handovers),
        *_compare("card_custody", _by_job(custody), _by_job(replay.custody)),
        *_compare("destructions", destructions, replay.destructions),
        *_compare("destroyed", destroyed, replay.destroyed),
    ]
