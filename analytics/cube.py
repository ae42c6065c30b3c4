"""Keeps analytics.models.Cell and OptionCell equal to the sums over the counted reports.

A report counts while it is 审核通过 (bucket "approved") or 待审核 (bucket "pending", shown only
when the administrator asks for the early picture). Its content cannot change while it counts:
only 编辑, 审核退回 and 解除冻结 months are editable. So a status change is all that moves the
aggregate: the receiver below subtracts the report's contribution from the bucket it leaves and
adds it to the bucket it enters, in the transaction of the transition. Approving a report updates
the figures at once; there is no nightly rebuild.

What a report adds is written once: its dimensions (`dimension_values`) and its measures
(`_measures`). A whole month is rebuilt in SQL, one INSERT … SELECT per dimension (`rebuild`);
the delta of one report reads the same expressions grouped by every dimension at once
(`contribution`), and `verify` compares the two. The dimensions are the month's own facts from
step 1 (basic_info: the county, the industry, size, holding and registration type as the month
was reported; "" where it lacks one), never the enterprise's record, which may change while the
report counts.

`manage.py rebuild_analytics` recomputes months from the raw reports (after a bulk load, or to
repair); `verify` says whether the aggregate equals a rebuild."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from decimal import Decimal
from typing import Any

from django.db import connection, models, transaction
from django.db.models import BigIntegerField, Case, Count, F, Q, QuerySet, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import Cast, Coalesce, Round, Substr
from django.dispatch import receiver

from analytics.models import MEASURES, REPORTS, Bucket, Cell, Dim, OptionCell
from reports.models import Answer, IndicatorValue, Question, Report
from reports.signals import status_changed

BUCKETS: dict[str, str] = {
    Report.Status.APPROVED: Bucket.APPROVED,
    Report.Status.PENDING: Bucket.PENDING,
}
COUNTED_STATUSES = tuple(BUCKETS)
KEY = ("period", "indicator", "dim", "county", "value", "bucket")
Key = tuple[str, str, str, str, str, str]


def bucket_of(status: str) -> str | None:
    return BUCKETS.get(status)


# --- The month's own facts of a report ---------------------------------------------------------


def _fact(key: str, prefix: str) -> Coalesce:
    """A step-1 field of the report as reported that month ("" where the month lacks it). Never
    the enterprise's record: that changes later, and a report must leave the cells it entered."""
    return Coalesce(
        KeyTextTransform(key, f"{prefix}basic_info"), Value(""), output_field=models.CharField()
    )


def dimension_values(prefix: str = "") -> dict[str, Any]:
    """county and one expression per Dim, for a Report queryset (prefix "") or a queryset of
    rows pointing at reports (prefix "report__")."""
    return {
        "county": _fact("region", prefix),
        Dim.ALL: Value("", output_field=models.CharField()),
        Dim.INDUSTRY: Substr(_fact("industry", prefix), 1, 2),
        Dim.SIZE: _fact("size", prefix),
        Dim.HOLDING: _fact("holding_type", prefix),
        Dim.REGISTRATION: _fact("registration_type", prefix),
    }


def _bucket(prefix: str) -> Case:
    return Case(
        When(**{f"{prefix}status": Report.Status.APPROVED}, then=Value(Bucket.APPROVED)),
        default=Value(Bucket.PENDING),
        output_field=models.CharField(),
    )


# --- What a set of reports adds ----------------------------------------------------------------


def _milli(name: str) -> Cast:
    scaled = F(name) * Value(Decimal(1000), output_field=models.DecimalField())
    return Cast(Round(scaled), BigIntegerField())


def _sum(name: str, condition: Q) -> Coalesce:
    return Coalesce(
        models.Sum(_milli(name), filter=condition), Value(0), output_field=BigIntegerField()
    )


def _measures() -> dict[str, Any]:
    has = Q(ytd__isnull=False)
    both = Q(ytd__isnull=False, last_year_ytd__isnull=False)
    both_current = Q(current__isnull=False, last_year_current__isnull=False)
    negative = Q(ytd__lt=0)
    return {
        "n": Count("pk", filter=has),
        "total": _sum("ytd", has),
        "n_cmp": Count("pk", filter=both),
        "cmp": _sum("ytd", both),
        "base": _sum("last_year_ytd", both),
        "n_up": Count("pk", filter=Q(ytd__gt=F("last_year_ytd"))),
        "n_neg": Count("pk", filter=negative),
        "neg_total": _sum("ytd", negative),
        "n_cur": Count("pk", filter=both_current),
        "cur": _sum("current", both_current),
        "cur_base": _sum("last_year_current", both_current),
    }


def _grouped_values(reports: QuerySet[Report], dim: str) -> QuerySet[Any]:
    """Per (month, indicator, county, value of `dim`, bucket): the MEASURES of the reports'
    indicator values. Columns in KEY order, then MEASURES."""
    dims = dimension_values("report__")
    return (
        IndicatorValue.objects.filter(report__in=reports)
        .annotate(
            k_period=F("report__period"),
            k_indicator=F("code"),
            k_dim=Value(dim, output_field=models.CharField()),
            k_county=dims["county"],
            k_value=dims[dim],
            k_bucket=_bucket("report__"),
        )
        .values("k_period", "k_indicator", "k_dim", "k_county", "k_value", "k_bucket")
        .annotate(**_measures())
        .values_list(
            "k_period", "k_indicator", "k_dim", "k_county", "k_value", "k_bucket", *MEASURES
        )
        .order_by()
    )


def _grouped_reports(reports: QuerySet[Report], dim: str) -> QuerySet[Any]:
    """The pseudo-indicator REPORTS: how many reports, per the same key."""
    dims = dimension_values()
    zeros = {name: Value(0, output_field=BigIntegerField()) for name in MEASURES[1:]}
    return (
        reports.annotate(
            k_period=F("period"),
            k_indicator=Value(REPORTS, output_field=models.CharField()),
            k_dim=Value(dim, output_field=models.CharField()),
            k_county=dims["county"],
            k_value=dims[dim],
            k_bucket=_bucket(""),
        )
        .values("k_period", "k_indicator", "k_dim", "k_county", "k_value", "k_bucket")
        .annotate(n=Count("pk"), **zeros)
        .values_list(
            "k_period", "k_indicator", "k_dim", "k_county", "k_value", "k_bucket", *MEASURES
        )
        .order_by()
    )


def _grouped(reports: QuerySet[Report]) -> Iterator[QuerySet[Any]]:
    for dim in Dim.values:
        yield _grouped_reports(reports, dim)
        yield _grouped_values(reports, dim)


def _answers(reports: QuerySet[Report]) -> Iterator[tuple[tuple[str, int, str, str, str], int]]:
    """(period, question, county, option, bucket) → 1 for each chosen option of a choice
    question and for the question itself (option "": the report answered it)."""
    dims = dimension_values("report__")
    rows = (
        Answer.objects.filter(
            report__in=reports, question__type__in=(Question.Type.SINGLE, Question.Type.MULTIPLE)
        )
        .annotate(k_county=dims["county"], k_bucket=_bucket("report__"))
        .values_list("report__period", "question_id", "k_county", "value", "k_bucket")
        .order_by()
    )
    for period, question, county, value, bucket in rows.iterator(chunk_size=5000):
        chosen = value if isinstance(value, list) else [value]
        options = {str(v) for v in chosen if v not in (None, "")}
        if not options:
            continue
        yield (period, question, county, "", bucket), 1
        for option in sorted(options):
            yield (period, question, county, option[:100], bucket), 1


# --- Applying a delta --------------------------------------------------------------------------


def _upsert(table: str, key: tuple[str, ...], measures: tuple[str, ...], rows: list[tuple]) -> None:
    """Add `rows` (key values then measure values) to the table: insert, or add on conflict."""
    if not rows:
        return
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in (*key, *measures))
    placeholders = "(" + ", ".join(["%s"] * (len(key) + len(measures))) + ")"
    updates = ", ".join(
        f"{quote(m)} = {quote(table)}.{quote(m)} + excluded.{quote(m)}" for m in measures
    )
    conflict = ", ".join(quote(c) for c in key)
    with connection.cursor() as cursor:
        # As many rows a statement as the database takes parameters (SQLite before 3.32: 999;
        # PostgreSQL's protocol: 65,535).
        params = connection.features.max_query_params or 65535
        limit = max(1, params // (len(key) + len(measures)))
        for start in range(0, len(rows), limit):
            chunk = rows[start : start + limit]
            sql = (
                f"INSERT INTO {quote(table)} ({columns}) VALUES "
                + ", ".join([placeholders] * len(chunk))
                + f" ON CONFLICT ({conflict}) DO UPDATE SET {updates}"
            )
            cursor.execute(sql, [value for row in chunk for value in row])


def _grouped_by_every_dim(reports: QuerySet[Report]) -> Iterator[tuple[Key, list[int]]]:
    """The same sums as `_grouped`, read in two queries grouped by all dimensions at once and
    spread over each dimension here (the measures are additive): the delta of one report costs
    two queries instead of ten."""
    dims = dimension_values("report__")
    keys = {f"k_{d}": dims[d] for d in Dim.values if d != Dim.ALL}
    values = (
        IndicatorValue.objects.filter(report__in=reports)
        .annotate(k_county=dims["county"], k_bucket=_bucket("report__"), **keys)
        .values("report__period", "code", "k_county", "k_bucket", *keys)
        .annotate(**_measures())
        .order_by()
    )
    own = dimension_values()
    counts = (
        reports.annotate(
            code=Value(REPORTS, output_field=models.CharField()),
            k_county=own["county"],
            k_bucket=_bucket(""),
            **{f"k_{d}": own[d] for d in Dim.values if d != Dim.ALL},
        )
        .values("period", "code", "k_county", "k_bucket", *keys)
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in [*values, *counts]:
        period = row.get("report__period") or row["period"]
        measures = [int(row.get(name) or 0) for name in MEASURES]
        for dim in Dim.values:
            value = "" if dim == Dim.ALL else row[f"k_{dim}"]
            yield (period, row["code"], dim, row["k_county"], value, row["k_bucket"]), measures


def contribution(reports: QuerySet[Report]) -> tuple[dict[Key, list[int]], dict[tuple, int]]:
    """What the counted ones among `reports` add to Cell and to OptionCell, keyed."""
    cells: dict[Key, list[int]] = {}
    for key, measures in _grouped_by_every_dim(reports):
        if key in cells:
            cells[key] = [a + b for a, b in zip(cells[key], measures, strict=True)]
        else:
            cells[key] = measures
    options: dict[tuple, int] = defaultdict(int)
    for key, n in _answers(reports):
        options[key] += n
    return cells, dict(options)


def _apply(
    cells: dict[Key, list[int]], options: dict[tuple, int], sign: int, bucket: str | None
) -> None:
    """Add `sign` × the sums to `bucket` (None: the bucket each key already names)."""
    cell_rows: dict[tuple, list[int]] = {}
    for key, measures in cells.items():
        target = (*key[:5], bucket or key[5])
        current = cell_rows.setdefault(target, [0] * len(MEASURES))
        for i, m in enumerate(measures):
            current[i] += sign * m
    option_rows: dict[tuple, int] = defaultdict(int)
    for (period, question, county, option, own), n in options.items():
        option_rows[(period, question, county, option, bucket or own)] += sign * n
    # Sorted keys: concurrent transactions touching the same cells lock them in the same order.
    _upsert(
        Cell._meta.db_table,
        KEY,
        MEASURES,
        [(*key, *measures) for key, measures in sorted(cell_rows.items())],
    )
    _upsert(
        OptionCell._meta.db_table,
        ("period", "question_id", "county", "option", "bucket"),
        ("n",),
        [(*key, n) for key, n in sorted(option_rows.items())],
    )


# Within `deferred()`: report pk → (bucket it left first, bucket it entered last).
_deferred: ContextVar[dict[int, tuple[str | None, str | None]] | None] = ContextVar(
    "analytics_deferred", default=None
)


@contextmanager
def deferred() -> Iterator[None]:
    """Collect the status changes of a block (a chunk of a bulk import: one transaction, many
    reports) and apply them once at its end, inside the same transaction: the shared cells are
    locked once, in sorted order, and only for the end of the block. A change whose savepoint
    was rolled back is recognised by the report's status and skipped."""
    if _deferred.get() is not None:  # nested: the outer block applies
        yield
        return
    token = _deferred.set({})
    try:
        yield
        moves = _deferred.get() or {}
    finally:
        _deferred.reset(token)
    _apply_moves(moves)


def _apply_moves(moves: dict[int, tuple[str | None, str | None]]) -> None:
    if not moves:
        return
    statuses = dict(Report.objects.filter(pk__in=list(moves)).values_list("pk", "status"))
    leaving: dict[str, list[int]] = defaultdict(list)
    entering: list[int] = []
    for pk, (from_bucket, to_bucket) in moves.items():
        if bucket_of(statuses.get(pk, "")) != to_bucket or from_bucket == to_bucket:
            continue  # rolled back to where it was, or back where it started
        if from_bucket is not None:
            leaving[from_bucket].append(pk)
        if to_bucket is not None:
            entering.append(pk)
    for bucket, pks in sorted(leaving.items()):
        cells, options = contribution(Report.objects.filter(pk__in=pks))
        _apply(cells, options, -1, bucket)
    if entering:
        cells, options = contribution(Report.objects.filter(pk__in=entering))
        _apply(cells, options, +1, None)  # each report into the bucket of its status


def move(report: Report, from_bucket: str | None, to_bucket: str | None) -> None:
    """Take the report's contribution out of one bucket and into another (None: not counted)."""
    pending = _deferred.get()
    if pending is not None:
        first = pending.get(report.pk, (from_bucket, to_bucket))[0]
        pending[report.pk] = (first, to_bucket)
        return
    if from_bucket == to_bucket:
        return
    # Computed as if the report counted (the queries key by its status): one bucket's worth.
    cells, options = contribution(Report.objects.filter(pk=report.pk))
    if from_bucket is not None:
        _apply(cells, options, -1, from_bucket)
    if to_bucket is not None:
        _apply(cells, options, +1, to_bucket)


@receiver(status_changed, dispatch_uid="analytics.cube.on_status_changed")
def on_status_changed(sender: type, report: Report, from_status: str, **kwargs: Any) -> None:
    move(report, bucket_of(from_status), bucket_of(report.status))


# --- Rebuilding from the raw reports -----------------------------------------------------------


def counted_reports(periods: Iterable[str]) -> QuerySet[Report]:
    return Report.objects.filter(period__in=list(periods), status__in=COUNTED_STATUSES)


def rebuild(periods: Iterable[str] | None = None) -> int:
    """Recompute the aggregate of the given months (all months with reports when None) from the
    raw reports, in one transaction. Returns the number of Cell rows written."""
    if periods is None:
        periods = Report.objects.values_list("period", flat=True).distinct().order_by()
    months = sorted(set(periods))
    written = 0
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in (*KEY, *MEASURES))
    with transaction.atomic():
        if connection.vendor == "postgresql":
            # Status changes wait until the rebuild commits: none can insert a cell between the
            # delete and the inserts below (SQLite's write lock does the same by itself).
            with connection.cursor() as cursor:
                tables = f"{quote(Cell._meta.db_table)}, {quote(OptionCell._meta.db_table)}"
                cursor.execute(f"LOCK TABLE {tables} IN SHARE ROW EXCLUSIVE MODE")
        Cell.objects.filter(period__in=months).delete()
        OptionCell.objects.filter(period__in=months).delete()
        # One statement per dimension over all the months: each reads the values table once
        # (per month, PostgreSQL would scan it once per month and dimension).
        reports = counted_reports(months)
        with connection.cursor() as cursor:
            for query in _grouped(reports):
                # Rows of one month and indicator land next to each other: a table reads few pages.
                query = query.order_by("k_period", "k_indicator", "k_county")
                sql, params = query.query.sql_with_params()
                cursor.execute(
                    f"INSERT INTO {quote(Cell._meta.db_table)} ({columns}) {sql}", params
                )
                written += max(cursor.rowcount, 0)
        for month in months:
            options: dict[tuple, int] = defaultdict(int)
            for key, n in _answers(counted_reports([month])):
                options[key] += n
            OptionCell.objects.bulk_create(
                (
                    OptionCell(period=p, question_id=q, county=c, option=o, bucket=b, n=n)
                    for (p, q, c, o, b), n in options.items()
                ),
                batch_size=2000,
            )
    return written


def verify(periods: Iterable[str]) -> list[str]:
    """The months whose aggregate differs from a recomputation (empty: all equal)."""
    differing = []
    for month in sorted(set(periods)):
        expected, options = contribution(counted_reports([month]))
        stored = {
            tuple(row[:6]): list(row[6:])
            for row in Cell.objects.filter(period=month).values_list(*KEY, *MEASURES)
        }
        stored = {k: v for k, v in stored.items() if any(v)}
        expected = {k: v for k, v in expected.items() if any(v)}
        stored_options = {
            row[:5]: row[5]
            for row in OptionCell.objects.filter(period=month).values_list(
                "period", "question_id", "county", "option", "bucket", "n"
            )
            if row[5]
        }
        if stored != expected or stored_options != options:
            differing.append(month)
    return differing
