"""The left navigation, built from what the logged-in user may do."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import reverse

from accounts.administrators import may_manage_administrators
from accounts.models import User

E, L, S = User.Type.ENTERPRISE, User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN


@dataclass(frozen=True)
class NavItem:
    group: str
    label: str
    url_name: str
    query: str = ""
    roles: tuple[str, ...] = (E, L, S)
    staff_only: bool = False  # the Django admin lets in only users marked is_staff
    admin_manager: bool = False  # national administrators and those of a province


NAV_ITEMS = (
    NavItem("平台首页", "主页面", "portal:home"),
    NavItem("数据采集", "当期报送", "reports:current", roles=(E,)),
    NavItem("数据采集", "上报导入", "transfer:import", roles=(E,)),
    NavItem("数据采集", "历史报送", "reports:history", roles=(E,)),
    NavItem("审核管理", "报表审核", "review:worklist", roles=(L, S)),
    NavItem("审核管理", "关键信息变更", "review:changes", roles=(L, S)),
    NavItem("审核管理", "填报情况", "stats:completion", roles=(L, S)),
    NavItem("统计分析", "运行监测分析", "analytics:page", roles=(L, S)),
    NavItem("统计分析", "分析报告", "analytics:report", roles=(L, S)),
    # National administrators and those of a province (as for administrator accounts).
    NavItem("审核管理", "批量导入", "transfer:bulk", roles=(L, S), admin_manager=True),
    NavItem("信息服务", "通知公告", "notices:list", "?kind=notice"),
    NavItem("信息服务", "平台动态", "notices:list", "?kind=news"),
    NavItem("信息服务", "发布管理", "notices:manage", roles=(L, S)),
    NavItem("个人设置", "修改个人信息", "accounts:profile"),
    NavItem("个人设置", "修改密码", "accounts:password_change"),
    NavItem("个人设置", "API令牌", "accounts:tokens"),
    NavItem("个人设置", "动态口令", "accounts:second_factor", roles=(L, S)),
    NavItem("系统管理", "管理员账户", "accounts:administrators", roles=(S, L), admin_manager=True),
    NavItem("系统管理", "审计日志", "audit:search", roles=(S,)),
    NavItem("系统管理", "验证码发件箱", "accounts:outbox", roles=(S,)),
    NavItem("系统管理", "管理后台", "admin:index", roles=(S,), staff_only=True),
    NavItem("帮助", "常见问题", "portal:faq"),
)


def navigation_for(user: User) -> list[tuple[str, list[dict[str, str]]]]:
    groups: dict[str, list[dict[str, str]]] = {}
    for item in NAV_ITEMS:
        if (
            user.user_type in item.roles
            and (user.is_staff or not item.staff_only)
            and (may_manage_administrators(user) or not item.admin_manager)
        ):
            url = reverse(item.url_name) + item.query
            groups.setdefault(item.group, []).append({"label": item.label, "url": url})
    return list(groups.items())
