from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from directory.cascade import CASCADES, CODE_RE, EMPTY_LABEL, option_choices


@require_GET
def cascade_options(request: HttpRequest, kind: str) -> HttpResponse:
    """The <option>s below the value of whichever select of the cascade changed, and empty
    options for the selects deeper than that one (swapped out of band)."""
    cascade = CASCADES.get(kind)
    if cascade is None:
        raise Http404
    names = cascade.field_names
    changed = next((i for i, n in enumerate(names[:-1]) if n in request.GET), None)
    if changed is None:
        raise Http404
    parent = request.GET[names[changed]].strip()
    valid = CODE_RE.fullmatch(parent) is not None
    choices = option_choices(cascade, parent) if valid else [("", EMPTY_LABEL)]
    return render(
        request,
        "directory/_options.html",
        {"choices": choices, "reset": names[changed + 2 :]},
    )
