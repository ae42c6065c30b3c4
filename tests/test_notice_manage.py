"""发布管理: publishing (/notices/manage/new/), editing and deleting notices and platform news.
Administrators only, each within the region it manages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from accounts.models import User
from notices.models import Notice
from tests.conftest import Personas

pytestmark = pytest.mark.usefixtures("reference_data")

ONLY_OWN_REGION = "只能向您管理的地区发布。"
XSS_BODY = "<script>alert('xss')</script>\n<b>加粗</b> & <img src=x onerror=alert(1)>"


def publish(author: User, title: str, region: str | None, audience: str = "all") -> Notice:
    return Notice.objects.create(
        title=title, body=f"{title}的正文。", audience=audience, region_id=region, author=author
    )


def form_data(**overrides: str) -> dict[str, str]:
    data = {
        "kind": "notice",
        "title": "关于报送2026年5月运行监测数据的通知",
        "body": "请各企业于6月20日前完成填报。",
        "audience": "all",
        "region": "330200",
    }
    data.update(overrides)
    return data


def errors_next_to(html: str, field: str) -> list[str]:
    """The error lines shown inside the form row of `field`."""
    rows = html.split('<div class="field')[1:]
    row = next(r for r in rows if f'<label for="id_{field}">' in r)
    return re.findall(r'<div class="error" role="alert">(.*?)</div>', row)


def snapshot(notice: Notice) -> tuple[str, str, str, str, str | None]:
    notice.refresh_from_db()
    return notice.kind, notice.title, notice.body, notice.audience, notice.region_id


# --- Who may open the manage pages -------------------------------------------------------------


@pytest.mark.parametrize("persona", ["ningbo_enterprise", "guangdong_enterprise"])
@pytest.mark.parametrize(
    ("method", "url"),
    [
        ("get", "/notices/manage/"),
        ("get", "/notices/manage/new/"),
        ("post", "/notices/manage/new/"),
        ("get", "/notices/manage/{pk}/edit/"),
        ("post", "/notices/manage/{pk}/edit/"),
        ("post", "/notices/manage/{pk}/delete/"),
    ],
)
def test_an_enterprise_gets_not_found_on_every_manage_page(
    personas: Personas, persona: str, method: str, url: str
) -> None:
    notice = publish(personas.ningbo_admin, "宁波市通知", "330211")
    before = snapshot(notice)
    client = personas.client_for(getattr(personas, persona))

    response = getattr(client, method)(url.format(pk=notice.pk), form_data(title="企业的通知"))

    assert response.status_code == 404
    assert Notice.objects.count() == 1
    assert snapshot(notice) == before


@pytest.mark.parametrize(
    "url", ["/notices/manage/", "/notices/manage/new/", "/notices/manage/1/edit/"]
)
def test_an_anonymous_visitor_is_sent_to_the_login_page(url: str) -> None:
    response = Client().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/?next=")


@pytest.mark.parametrize("persona", ["ningbo_admin", "zhejiang_admin", "senior_admin"])
def test_an_administrator_opens_the_publishing_form(personas: Personas, persona: str) -> None:
    response = personas.client_for(getattr(personas, persona)).get("/notices/manage/new/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "<h1>发布新信息</h1>" in html
    assert '<label for="id_region">发布范围</label>' in html


def test_the_manage_list_shows_a_local_administrator_only_its_regions_notices(
    personas: Personas,
) -> None:
    publish(personas.ningbo_admin, "镇海区企业座谈会通知", "330211")
    publish(personas.zhejiang_admin, "浙江省通知", "330000")
    publish(personas.guangdong_admin, "广东省通知", "440000")
    publish(personas.senior_admin, "全国通知", None)

    html = personas.client_for(personas.ningbo_admin).get("/notices/manage/").content.decode()

    assert "镇海区企业座谈会通知" in html
    assert "浙江省 宁波市 镇海区" in html
    for other in ("浙江省通知", "广东省通知", "全国通知"):
        assert other not in html


# --- Publishing: where to --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("region", "scope"), [("330200", "浙江省 宁波市"), ("330211", "浙江省 宁波市 镇海区")]
)
def test_the_ningbo_administrator_publishes_to_ningbo_or_a_region_inside_it(
    personas: Personas, region: str, scope: str
) -> None:
    client = personas.client_for(personas.ningbo_admin)

    response = client.post("/notices/manage/new/", form_data(region=region), follow=True)

    assert response.redirect_chain == [("/notices/manage/", 302)]
    assert "已发布。" in response.content.decode()
    notice = Notice.objects.get()
    assert notice.title == "关于报送2026年5月运行监测数据的通知"
    assert notice.body == "请各企业于6月20日前完成填报。"
    assert (notice.kind, notice.audience, notice.region_id) == ("notice", "all", region)
    assert notice.author == personas.ningbo_admin
    assert f"<td>{scope}</td>" in response.content.decode()


@pytest.mark.parametrize(
    ("region", "message"),
    [
        pytest.param("330000", ONLY_OWN_REGION, id="the-province-above"),
        pytest.param("440000", ONLY_OWN_REGION, id="another-province"),
        pytest.param("440106", ONLY_OWN_REGION, id="a-county-elsewhere"),
        pytest.param("", "这个字段是必填项。", id="the-whole-country"),
    ],
)
def test_the_ningbo_administrator_may_not_publish_outside_ningbo(
    personas: Personas, region: str, message: str
) -> None:
    client = personas.client_for(personas.ningbo_admin)

    response = client.post("/notices/manage/new/", form_data(region=region))

    assert response.status_code == 200
    assert errors_next_to(response.content.decode(), "region") == [message]
    assert not Notice.objects.exists()


def test_the_ningbo_administrator_is_offered_only_regions_of_ningbo(personas: Personas) -> None:
    html = personas.client_for(personas.ningbo_admin).get("/notices/manage/new/").content.decode()
    select = re.search(r'<select name="region".*?</select>', html, re.S)
    assert select is not None
    codes = re.findall(r'<option value="(\d*)"', select.group(0))
    assert "330200" in codes
    assert "330211" in codes
    assert all(code.startswith("3302") for code in codes)
    assert "全国" not in select.group(0)


def test_the_zhejiang_administrator_publishes_to_a_city_of_zhejiang(personas: Personas) -> None:
    client = personas.client_for(personas.zhejiang_admin)
    response = client.post("/notices/manage/new/", form_data(region="330200", audience="admins"))
    assert response.status_code == 302
    notice = Notice.objects.get()
    assert (notice.region_id, notice.audience, notice.author) == (
        "330200",
        "admins",
        personas.zhejiang_admin,
    )


def test_the_senior_administrator_publishes_to_the_whole_country(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)

    response = client.post(
        "/notices/manage/new/", form_data(region="", kind="news", title="平台完成升级"), follow=True
    )

    assert response.redirect_chain == [("/notices/manage/", 302)]
    notice = Notice.objects.get()
    assert (notice.kind, notice.title, notice.region_id) == ("news", "平台完成升级", None)
    assert notice.scope_label == "全国"
    html = personas.client_for(personas.guangdong_enterprise).get("/notices/?kind=news")
    assert "平台完成升级" in html.content.decode()


def test_the_senior_administrator_publishes_to_a_province(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)
    response = client.post("/notices/manage/new/", form_data(region="440000"))
    assert response.status_code == 302
    assert Notice.objects.get().region_id == "440000"


# --- Required fields and escaping --------------------------------------------------------------


@pytest.mark.parametrize(
    ("blank", "message"), [("title", "请填写标题。"), ("body", "请填写正文。")]
)
def test_a_notice_without_title_or_body_is_refused_with_a_message_next_to_the_field(
    personas: Personas, blank: str, message: str
) -> None:
    client = personas.client_for(personas.ningbo_admin)

    response = client.post("/notices/manage/new/", form_data(**{blank: ""}))

    assert response.status_code == 200
    html = response.content.decode()
    assert errors_next_to(html, blank) == [message]
    assert errors_next_to(html, "region") == []
    assert not Notice.objects.exists()


def test_a_notice_without_title_and_body_shows_both_messages(personas: Personas) -> None:
    client = personas.client_for(personas.senior_admin)
    response = client.post("/notices/manage/new/", form_data(title="", body="", region=""))
    html = response.content.decode()
    assert errors_next_to(html, "title") == ["请填写标题。"]
    assert errors_next_to(html, "body") == ["请填写正文。"]
    assert not Notice.objects.exists()


def test_html_in_the_body_is_shown_as_text_on_the_detail_page(personas: Personas) -> None:
    client = personas.client_for(personas.ningbo_admin)
    client.post(
        "/notices/manage/new/", form_data(title="<i>标题</i>", body=XSS_BODY, region="330211")
    )
    notice = Notice.objects.get()
    assert notice.body == XSS_BODY  # stored as typed, escaped when shown

    html = personas.client_for(personas.ningbo_enterprise).get(f"/notices/{notice.pk}/")
    page = html.content.decode()

    assert html.status_code == 200
    assert "<script>alert" not in page
    assert "<img src=x" not in page
    assert "<b>加粗</b>" not in page
    assert "<i>标题</i>" not in page
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in page
    assert "&lt;b&gt;加粗&lt;/b&gt; &amp; &lt;img src=x onerror=alert(1)&gt;" in page
    assert "<h1>&lt;i&gt;标题&lt;/i&gt;</h1>" in page


# --- Editing and deleting ----------------------------------------------------------------------


def test_the_ningbo_administrator_edits_its_own_notice(personas: Personas) -> None:
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    client = personas.client_for(personas.ningbo_admin)

    form = client.get(f"/notices/manage/{notice.pk}/edit/")
    assert form.status_code == 200
    assert "<h1>修改信息</h1>" in form.content.decode()

    response = client.post(
        f"/notices/manage/{notice.pk}/edit/",
        form_data(title="镇海区通知（更正）", region="330200", audience="enterprises"),
        follow=True,
    )

    assert response.redirect_chain == [("/notices/manage/", 302)]
    assert "已保存修改。" in response.content.decode()
    assert snapshot(notice) == (
        "notice",
        "镇海区通知（更正）",
        "请各企业于6月20日前完成填报。",
        "enterprises",
        "330200",
    )
    assert notice.author == personas.ningbo_admin
    assert Notice.objects.count() == 1


def test_a_local_administrator_may_not_move_its_notice_out_of_its_region(
    personas: Personas,
) -> None:
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    before = snapshot(notice)
    client = personas.client_for(personas.ningbo_admin)

    response = client.post(f"/notices/manage/{notice.pk}/edit/", form_data(region="330000"))

    assert response.status_code == 200
    assert errors_next_to(response.content.decode(), "region") == [ONLY_OWN_REGION]
    assert snapshot(notice) == before


def test_a_blank_title_on_edit_is_refused_and_the_notice_keeps_its_title(
    personas: Personas,
) -> None:
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    before = snapshot(notice)
    client = personas.client_for(personas.ningbo_admin)

    response = client.post(f"/notices/manage/{notice.pk}/edit/", form_data(title="  "))

    assert errors_next_to(response.content.decode(), "title") == ["请填写标题。"]
    assert snapshot(notice) == before


def test_the_ningbo_administrator_deletes_its_own_notice(personas: Personas) -> None:
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    client = personas.client_for(personas.ningbo_admin)

    response = client.post(f"/notices/manage/{notice.pk}/delete/", follow=True)

    assert response.redirect_chain == [("/notices/manage/", 302)]
    assert "已删除《镇海区通知》。" in response.content.decode()
    assert not Notice.objects.filter(pk=notice.pk).exists()


def test_deleting_needs_a_post(personas: Personas) -> None:
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    response = personas.client_for(personas.ningbo_admin).get(
        f"/notices/manage/{notice.pk}/delete/"
    )
    assert response.status_code == 405
    assert Notice.objects.filter(pk=notice.pk).exists()


@pytest.mark.parametrize(
    ("persona", "region"),
    [
        pytest.param("guangdong_admin", "330211", id="guangdong-admin-on-a-ningbo-notice"),
        pytest.param("ningbo_admin", "440000", id="ningbo-admin-on-a-guangdong-notice"),
        pytest.param("ningbo_admin", "330000", id="ningbo-admin-on-the-province-above"),
        pytest.param("ningbo_admin", None, id="ningbo-admin-on-a-national-notice"),
        pytest.param("zhejiang_admin", "440000", id="zhejiang-admin-on-a-guangdong-notice"),
    ],
)
@pytest.mark.parametrize("action", ["open-edit", "save-edit", "delete"])
def test_a_local_administrator_gets_not_found_on_a_notice_of_another_region(
    personas: Personas, persona: str, region: str | None, action: str
) -> None:
    notice = publish(personas.senior_admin, "别处的通知", region)
    before = snapshot(notice)
    client = personas.client_for(getattr(personas, persona))

    if action == "open-edit":
        response = client.get(f"/notices/manage/{notice.pk}/edit/")
    elif action == "save-edit":
        response = client.post(
            f"/notices/manage/{notice.pk}/edit/", form_data(title="被改掉的标题", region="330200")
        )
    else:
        response = client.post(f"/notices/manage/{notice.pk}/delete/")

    assert response.status_code == 404
    assert snapshot(notice) == before
    assert Notice.objects.count() == 1


def test_the_zhejiang_administrator_edits_a_notice_of_ningbo(personas: Personas) -> None:
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    client = personas.client_for(personas.zhejiang_admin)
    response = client.post(
        f"/notices/manage/{notice.pk}/edit/", form_data(title="省里改过的通知", region="330211")
    )
    assert response.status_code == 302
    assert snapshot(notice)[1] == "省里改过的通知"


def test_the_senior_administrator_edits_a_county_notice_keeping_its_region(
    personas: Personas,
) -> None:
    # A local administrator may publish to a county; the national administrator, who manages
    # every notice, must be able to correct such a notice without moving it.
    notice = publish(personas.ningbo_admin, "镇海区通知", "330211")
    client = personas.client_for(personas.senior_admin)

    response = client.post(
        f"/notices/manage/{notice.pk}/edit/", form_data(title="镇海区通知（更正）", region="330211")
    )

    assert response.status_code == 302
    assert snapshot(notice)[1:] == (
        "镇海区通知（更正）",
        "请各企业于6月20日前完成填报。",
        "all",
        "330211",
    )


def test_the_senior_administrator_deletes_any_notice(personas: Personas) -> None:
    notice = publish(personas.guangdong_admin, "广东省通知", "440000")
    response = personas.client_for(personas.senior_admin).post(
        f"/notices/manage/{notice.pk}/delete/"
    )
    assert response.status_code == 302
    assert not Notice.objects.exists()
