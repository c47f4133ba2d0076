"""`station central keygen|grant`: the centre's simulator, for tests, training and demos.

It never reads the station's configuration for a key: of `--config` only the language is used."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from console.commands._verbs import Verbs
from console.i18n import t


def register(sub: argparse._SubParsersAction, common: argparse.ArgumentParser) -> None:
    verbs = Verbs(sub, common, "central", t("help.central"))
    keygen = verbs.add("keygen", t("help.central.keygen"), keygen_cmd, language_only=True)
    keygen.add_argument("--out", required=True, type=Path, metavar="DIR")
    keygen.add_argument("--json", action="store_true")
    grant = verbs.add("grant", t("help.central.grant"), grant_cmd, language_only=True)
    grant.add_argument("report", type=Path, metavar="REPORT.json")
    grant.add_argument("--key", required=True, type=Path, metavar="KEY", help=t("help.central.key"))
    grant.add_argument("--out", required=True, type=Path, metavar="GRANT.json")
    grant.add_argument("--niks", nargs="+", metavar="NIK", help=t("help.central.niks"))
    grant.add_argument("--expires", default="7d", metavar="DURATION", help=t("help.central.expires"))
    grant.add_argument("--json", action="store_true")


def keygen_cmd(args: argparse.Namespace, settings: None) -> int:
    from console.central import simulator  # the station's own commands never load the centre's code

    pair = simulator.generate_keys(args.out)
    if args.json:
        print(json.dumps({"key_id": pair.key_id, "private": str(pair.private), "public": str(pair.public)}))
    else:
        print(pair.key_id)
        print(t("central.keygen_done", private=pair.private, public=pair.public))
    return 0


def grant_cmd(args: argparse.Namespace, settings: None) -> int:
    from console.central import simulator

    expires_in = simulator.parse_duration(args.expires)
    key = simulator.load_private_key(args.key)
    report = simulator.read_report(args.report)
    issued = simulator.issue_grant(report, key, args.out, simulator.ledger_beside(args.key), args.niks, expires_in)
    document = issued.document
    grant = document["grant"]
    if args.json:
        print(json.dumps({"file": str(args.out), "key_id": document["key_id"], **grant,
                          "already_granted": issued.already_granted}, ensure_ascii=False))  # fmt: skip
    else:
        print(
            t(
                "central.granted",
                count=len(grant["niks"]),
                file=args.out,
                expires=grant["expires_at"],
                key_id=document["key_id"],
            )
        )
        for nik in grant["niks"]:
            print(f"  {nik}")
        if issued.already_granted:
            print(t("central.already_granted", niks=", ".join(issued.already_granted)))
    return 0
