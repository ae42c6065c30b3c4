"""Step 1, 企业基本情况表: its fields and rules, one form for the page, the API and the import."""

from __future__ import annotations

from typing import Any

from django import forms
from django.core.validators import URLValidator

from directory.cascade import INDUSTRY, REGION, REGISTRATION, CascadeFormMixin, cascade_values
from directory.codes import EnterpriseCodeFormMixin
from directory.models import Enterprise, EnterpriseSize, HoldingType
from lib.validators import validate_landline, validate_mobile, validate_postal_code

REQUIRED = {"required": "此项为必填项。"}
# 企业名称, the organisation code and 所属行业: changing one needs the national review.
KEY_FIELDS = ("enterprise_name", "code_type", "code", "industry")
STORED_FIELDS = (
    "enterprise_name",
    "code_type",
    "code",
    "legal_representative",
    "industry",
    "region",
    "registration_type",
    "holding_type",
    "size",
    "listed",
    "stock_code",
    "address",
    "postal_code",
    "website",
    "contact_person",
    "phone",
    "fax",
    "mobile",
    "email",
    "main_business",
)


def _text(label: str, max_length: int, required: bool = True, **kw: Any) -> forms.CharField:
    return forms.CharField(
        label=label, max_length=max_length, required=required, error_messages=REQUIRED, **kw
    )


class BasicInfoForm(EnterpriseCodeFormMixin, CascadeFormMixin, forms.Form):
    cascades = (
        (INDUSTRY, "industry", True),
        (REGION, "region", True),
        (REGISTRATION, "registration_type", True),
    )

    enterprise_name = _text("企业名称", 100, help_text="填写报送数据企业的法定单位名称。")
    code_type = forms.ChoiceField(
        label="代码类型",
        choices=Enterprise.CodeType.choices,
        widget=forms.RadioSelect,
        error_messages=REQUIRED,
    )
    code = _text("机构代码", 20)
    legal_representative = _text("法人代表", 30)
    holding_type = forms.ChoiceField(
        label="控股类型",
        choices=HoldingType.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "请从列表中选择。"},
    )
    size = forms.ChoiceField(
        label="公司规模",
        choices=EnterpriseSize.choices,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": "请从列表中选择。"},
    )
    listed = forms.TypedChoiceField(
        label="是否上市",
        choices=[("0", "否"), ("1", "是")],
        coerce=lambda v: v == "1",
        empty_value=False,
        required=False,
        widget=forms.RadioSelect,
    )
    stock_code = _text("股票代码", 10, required=False)
    address = _text("通讯地址", 200)
    postal_code = _text("邮政编码", 6, validators=[validate_postal_code])
    website = _text("企业网址", 200, required=False, help_text="网址前加 http:// 或 https://")
    contact_person = _text("联系人", 30)
    phone = _text(
        "电话",
        20,
        required=False,
        validators=[validate_landline],
        help_text="请注明区号，区号和电话之间用“-”连接，如 0470-6608666。",
    )
    fax = _text("传真", 20, required=False, validators=[validate_landline])
    mobile = _text(
        "手机", 11, required=False, validators=[validate_mobile], help_text="电话和手机至少填一项。"
    )
    email = forms.EmailField(
        label="电子邮箱",
        max_length=254,
        required=False,
        error_messages={"invalid": "请输入有效的邮箱地址。"},
    )
    main_business = _text("主营业务/主要产品", 500, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args: Any, initial_leaves: dict | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.add_cascade_fields(initial_leaves)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> BasicInfoForm:
        """A bound form from the API's / import's shape: leaf codes for the three trees."""
        flat: dict[str, Any] = {}
        for key, value in data.items():
            if key in ("industry", "region", "registration_type"):
                continue
            if key == "listed":
                flat[key] = "1" if value is True else "0" if value is False else value
            else:
                flat[key] = "" if value is None else value
        flat.update(cascade_values(INDUSTRY, data.get("industry")))
        flat.update(cascade_values(REGION, data.get("region")))
        flat.update(cascade_values(REGISTRATION, data.get("registration_type")))
        return cls(flat)

    def clean_website(self) -> str:
        url = self.cleaned_data["website"].strip()
        if url:
            try:
                URLValidator(schemes=["http", "https"])(url)
            except forms.ValidationError:
                raise forms.ValidationError(
                    "网址格式不正确，请以 http:// 或 https:// 开头。"
                ) from None
        return url

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        self.clean_cascades()
        if not cleaned.get("phone") and not cleaned.get("mobile"):
            if "phone" not in self.errors and "mobile" not in self.errors:
                self.add_error("phone", "电话和手机至少填一项。")
        if cleaned.get("listed") and not cleaned.get("stock_code"):
            self.add_error("stock_code", "已上市企业请填写股票代码。")
        return cleaned

    def stored(self) -> dict[str, Any]:
        """The cleaned values as the report keeps them (codes for the trees)."""
        c = self.cleaned_data
        data = {name: c.get(name) for name in STORED_FIELDS}
        for name in ("industry", "region", "registration_type"):
            data[name] = c[name].pk if c.get(name) is not None else None
        data["stock_code"] = data["stock_code"] if c.get("listed") else ""
        return data


def key_values(info: dict[str, Any]) -> dict[str, Any]:
    return {name: info.get(name) for name in KEY_FIELDS}


def registered_key_values(enterprise: Enterprise) -> dict[str, Any]:
    return {
        "enterprise_name": enterprise.name,
        "code_type": enterprise.code_type,
        "code": enterprise.code,
        "industry": enterprise.industry_id,
    }


def changed_key_fields(enterprise: Enterprise, info: dict[str, Any]) -> list[str]:
    """Key fields that differ from what the enterprise has on record. Choosing an industry for
    the first time (none on record) is not a change."""
    old = registered_key_values(enterprise)
    new = key_values(info)
    changed = [k for k in KEY_FIELDS if old[k] != new[k]]
    if old["industry"] is None and "industry" in changed:
        changed.remove("industry")
    return changed
