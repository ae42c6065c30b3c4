"""manage.py generate_dataset: the synthetic national dataset the analytics benchmark runs on.
The command only reads its arguments and reports; the generator is analytics.dataset."""

from __future__ import annotations

import resource
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from analytics.dataset import DatasetError, generate
from reports.periods import current_report_month

LABELS = {
    "enterprises": "企业",
    "reports": "月报",
    "indicator_values": "指标数据",
    "answers": "问卷答案",
    "questionnaires": "调查问卷",
}


class Command(BaseCommand):
    help = (
        "生成分析模块性能测试用的全国合成数据集：企业按经济权重分布在各省的区县，以中小微型制造业"
        "为主；每月按当月指标目录填报（季末月份含季度指标），本月与1-本月数一致，上年同期取企业"
        "自身一年前的数，含季节波动、亏损企业、新增与退出企业、行业变更和迁址；最后一个月审核中；"
        "另有“企业经营状况调查”问卷及答案。只用于专用的空测试库，例如 "
        "DATABASE_URL=postgres://postgres@127.0.0.1:5432/sme_bench：先在该库上运行 "
        "manage.py migrate 和 manage.py load_reference_data，再运行本命令。库中已有月报时拒绝执行，"
        "除非加 --append。PostgreSQL 上用 COPY 写入。写入后如有 analytics.cube.rebuild，"
        "则重建这些月份的分析汇总表。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--enterprises", type=int, default=100_000, help="企业数（默认 100000）"
        )
        parser.add_argument("--months", type=int, default=24, help="月份数（默认 24）")
        parser.add_argument(
            "--end", metavar="YYYY-MM", help="最后一个报表月份（默认：已结束的最近一个月）"
        )
        parser.add_argument(
            "--seed", type=int, default=1, help="随机种子（默认 1）：相同则数据相同"
        )
        parser.add_argument(
            "--append",
            action="store_true",
            help="库中已有月报时仍然写入（新增企业，不改动已有数据）",
        )
        parser.add_argument(
            "--no-cube", action="store_true", help="写入后不重建分析汇总表（analytics.cube）"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        end = options["end"] or str(current_report_month())
        try:
            counts = generate(
                options["enterprises"],
                options["months"],
                end,
                options["seed"],
                out=self.stdout.write,
                append=options["append"],
                rebuild_cube=not options["no_cube"],
            )
        except DatasetError as exc:
            raise CommandError(str(exc)) from exc
        written = "，".join(f"{label} {counts[key]:,}" for key, label in LABELS.items())
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        self.stdout.write(
            f"完成：{written}；写入用时 {counts['seconds']} 秒，进程峰值内存 {peak:.0f} MB"
        )
