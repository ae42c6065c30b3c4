from __future__ import annotations

from typing import Any

from django import forms
from django.db.models import Q

from accounts.models import User
from directory.models import Region
from notices.models import Notice


class NoticeForm(forms.ModelForm):
    """The region choice is limited to what the author may publish to: national administrators
    anywhere (empty = 全国), local administrators their own region or a region inside it."""

    region = forms.ModelChoiceField(
        queryset=Region.objects.none(),
        required=False,
        label="发布范围",
        empty_label="全国",
        error_messages={"invalid_choice": "只能向您管理的地区发布。"},
    )

    class Meta:
        model = Notice
        fields = ["kind", "title", "body", "audience", "region"]
        widgets = {"body": forms.Textarea(attrs={"rows": 12})}
        error_messages = {
            "title": {"required": "请填写标题。"},
            "body": {"required": "请填写正文。"},
        }

    def __init__(self, *args: Any, author: User, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["region"]
        field.label_from_instance = lambda r: f"{r.code} {r.name}"  # type: ignore[attr-defined]
        if author.is_senior_admin:
            # Provinces and cities, plus the county a notice may already be addressed to.
            keep = Q(pk=self.instance.region_id) if self.instance.region_id else Q(pk=None)
            field.queryset = Region.objects.filter(Q(level__lte=2) | keep)  # type: ignore[attr-defined]
        else:
            assert author.region is not None
            prefix = author.region.prefix
            field.queryset = Region.objects.filter(code__startswith=prefix, level__lte=3)  # type: ignore[attr-defined]
            field.required = True
            field.empty_label = None  # type: ignore[attr-defined]
            if not self.instance.pk:
                field.initial = author.region.pk
