"""manage.py check_load: after a load run, every submission the server acknowledged to a client
(the locust file's LOAD_ACKS) must be in the database, once: its report of the month is 待审核 and
carries exactly one 上报 event. Also counts submissions stored but never acknowledged (a client
that gave up waiting), which are not errors but are reported."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db.models import Count, Q

from reports.models import Report
from reports.workflow import Action


class Command(BaseCommand):
    help = "压力测试后核对：客户端收到“上报成功”的每份报表在库中存在且只上报一次。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("acks", help="客户端记录的上报成功清单（JSON Lines）")
        parser.add_argument("--pool", default="var/load/pool.json")

    def handle(self, *args: Any, **options: Any) -> None:
        acks = [json.loads(line) for line in Path(options["acks"]).read_text().splitlines() if line]
        pool = json.loads(Path(options["pool"]).read_text())
        period = pool["period"]
        repeated = [k for k, n in Counter(a["enterprise_id"] for a in acks).items() if n > 1]
        ids = [e["enterprise_id"] for e in pool["enterprises"]]
        stored = {
            r["enterprise_id"]: r
            for r in Report.objects.filter(enterprise_id__in=ids, period=period)
            .annotate(submits=Count("events", filter=Q(events__action=Action.SUBMIT)))
            .values("enterprise_id", "status", "submits")
        }
        acked = {a["enterprise_id"] for a in acks}
        lost = [i for i in acked if i not in stored or stored[i]["status"] != "pending"]
        duplicated = [i for i, r in stored.items() if r["submits"] > 1] + repeated
        unacknowledged = [
            i for i, r in stored.items() if r["status"] == "pending" and i not in acked
        ]
        result = {
            "acknowledged": len(acks),
            "found_once": len(acked) - len(lost) - len(set(duplicated) & acked),
            "lost": len(lost),
            "duplicated": len(set(duplicated)),
            "stored_not_acknowledged": len(unacknowledged),
        }
        self.stdout.write(json.dumps(result))
        if lost or duplicated:
            raise CommandError(
                f"丢失 {len(lost)} 份（企业 {sorted(lost)[:10]}），重复 {len(set(duplicated))} 份"
                f"（企业 {sorted(set(duplicated))[:10]}）"
            )
