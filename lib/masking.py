"""Masking of personal contact data (issue 8): one rule, used by every list, export and admin list.

Formats (a value that fits none of them is shown as ``****``: we never guess how much of an
unknown string is safe to show):

- mobile ``13812341234`` → ``138****1234``: the first 3 and the last 4 of the 11 digits (the
  usual Chinese form). Spaces, hyphens and a ``+86``/``0086`` prefix are ignored when reading.
- landline ``0574-86668888`` (``-123`` extension allowed) → ``0574-****8888``: the area code and
  the last 4 digits of the number; an extension is dropped.
- e-mail ``zhang.san@example.com`` → ``z***@example.com``: the first character of the local part
  and the whole domain (the domain names an organisation or a provider, not the person); always
  three asterisks, so the length of the local part is not revealed either.
- empty or None → ``""`` (the page shows its usual blank or "—").

Who sees full values (``sees_contacts``), following PRODUCT.md "No user ever sees or changes data
outside its scope" and the manual's 修改个人信息 (the user edits its own mobile and e-mail):

- the enterprise itself: its own enterprise, its own reports, its own account;
- an administrator on the detail page of ONE enterprise or report inside its region (a reviewer
  must be able to phone the enterprise's clerk about a return);
- nobody else.

Lists (填报情况明细, the outbox, Django admin change lists) and exports (.xlsx files leave the
system) always mask, whoever reads them, so they never call ``sees_contacts``: a full number is a
deliberate click into one enterprise, not a by-product of browsing or exporting a whole region.
PRODUCT.md and the manual say nothing more specific about masking.
"""

from __future__ import annotations

import re
from typing import Any

HIDDEN = "****"
MOBILE_RE = re.compile(r"^1\d{10}$")
# Same shape as lib.validators.LANDLINE_RE, with groups for the parts that stay visible.
LANDLINE_RE = re.compile(r"^(0\d{2,3})-(\d{7,8})(?:-\d{1,6})?$")
# Separators a clerk may type inside a mobile number; a landline keeps its hyphen.
SEPARATORS_RE = re.compile(r"[\s\-]")


def _text(value: Any) -> str:
    """The value as stripped text; None and anything that cannot be read become ""."""
    if value is None:
        return ""
    try:
        return str(value).strip()
    except Exception:  # a broken __str__ must not break a list page
        return ""


def _mobile_digits(text: str) -> str | None:
    """The 11 digits of a Chinese mobile number, or None when `text` is not one."""
    digits = SEPARATORS_RE.sub("", text)
    for prefix in ("+86", "0086"):
        if digits.startswith(prefix):
            digits = digits[len(prefix) :]
            break
    # isascii: "１３８…" (full-width) or other Unicode digits are not read as a number.
    return digits if digits.isascii() and MOBILE_RE.match(digits) else None


def mask_mobile(value: Any) -> str:
    """``13812341234`` → ``138****1234``; anything else non-empty → ``****``."""
    text = _text(value)
    if not text:
        return ""
    digits = _mobile_digits(text)
    if digits is None:
        return HIDDEN
    return f"{digits[:3]}{HIDDEN}{digits[-4:]}"


def mask_phone(value: Any) -> str:
    """A landline ``0574-86668888`` → ``0574-****8888``; a mobile number (an enterprise's 联系电话
    may be either) as ``mask_mobile``; anything else non-empty → ``****``."""
    text = _text(value)
    if not text:
        return ""
    if _mobile_digits(text) is not None:
        return mask_mobile(text)
    match = LANDLINE_RE.match(text) if text.isascii() else None
    if match is None:
        return HIDDEN
    area, number = match.group(1), match.group(2)
    return f"{area}-{HIDDEN}{number[-4:]}"


def mask_email(value: Any) -> str:
    """``zhang.san@example.com`` → ``z***@example.com``; malformed (no single "@", an empty part,
    spaces) → ``****``."""
    text = _text(value)
    if not text:
        return ""
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain or "@" in local or any(c.isspace() for c in text):
        return HIDDEN
    return f"{local[0]}***@{domain}"


def mask_contact(value: Any) -> str:
    """Any one contact value whose kind is not known (an outbox recipient, a binding target):
    an e-mail when it has "@", else a phone or mobile number."""
    text = _text(value)
    return mask_email(text) if "@" in text else mask_phone(text)


def _enterprise_of(obj: Any) -> Any:
    """The enterprise behind an Enterprise, a Report or an enterprise user; None otherwise."""
    from accounts.models import User
    from directory.models import Enterprise

    if isinstance(obj, Enterprise):
        return obj
    if isinstance(obj, User):
        return obj.enterprise if obj.is_enterprise else None
    return getattr(obj, "enterprise", None)  # a Report, a KeyChangeRequest, …


def sees_contacts(user: Any, obj: Any) -> bool:
    """Whether `user` may read the full contact data of `obj` (an Enterprise, a Report or a User)
    on a DETAIL page. Lists and exports mask regardless (module docstring)."""
    try:
        if user is None or not getattr(user, "is_authenticated", False) or obj is None:
            return False
        if getattr(obj, "pk", None) is not None and obj == user:
            return True  # one's own account (修改个人信息)
        enterprise = _enterprise_of(obj)
        if enterprise is None:
            return False  # another administrator's account: no page needs it
        if user.is_enterprise:
            return user.enterprise_id is not None and user.enterprise_id == enterprise.pk
        if user.is_senior_admin:
            return True
        if user.is_local_admin and user.region is not None:
            return str(enterprise.region_id or "").startswith(user.region.prefix)
    except Exception:  # on any doubt, mask
        return False
    return False
