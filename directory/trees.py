"""A node of a code tree (regions, industries, registration types) with the nodes above it, in
one query: every ancestor's code is known from the node's own code (GB/T 2260 and the
registration codes by their digits; GB/T 4754 by its digits up to the 大类, whose 门类 letter is
found through the 大类 itself)."""

from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, Q

from directory.models import Industry, Region, RegistrationType

M = TypeVar("M", bound=Model)


def _candidates(model: type[Model], code: str) -> Q:
    if model is Region:
        return Q(pk__in={code[:2] + "0000", code[:4] + "00", code})
    if model is RegistrationType:
        return Q(pk__in={code[:1] + "00", code[:2] + "0", code})
    if model is Industry and code[:1].isdigit():
        # 小类 1311 → 中类 131 → 大类 13 → its 门类 (a letter, the parent of the 大类).
        return Q(pk__in={code[:n] for n in range(2, len(code) + 1)}) | Q(children__pk=code[:2])
    return Q(pk=code)


def ancestry(model: type[M], code: object) -> list[M]:
    """The node `code` and its ancestors, outermost first; [] for an unknown or empty code."""
    if not isinstance(code, str) or not code:
        return []
    nodes = {n.pk: n for n in model.objects.filter(_candidates(model, code)).distinct()}  # type: ignore[attr-defined]
    chain: list[M] = []
    node = nodes.get(code)
    while node is not None:
        chain.append(node)
        node = nodes.get(node.parent_id)  # type: ignore[attr-defined]
    return list(reversed(chain))
