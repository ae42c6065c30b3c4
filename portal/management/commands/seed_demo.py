"""Demo accounts, enterprises and notices. Idempotent: what exists already is left as it is."""

from __future__ import annotations

import base64
import datetime as dt
from decimal import Decimal
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice
from stdnum.cn import uscc

from accounts import second_factor
from accounts.models import User
from analytics import cube, dataset
from directory.codes import org_code_check_char
from directory.models import Enterprise, EnterpriseSize, HoldingType, Industry, Region
from notices.models import Notice
from reports.catalogue import catalogue_for, snapshot
from reports.models import IndicatorValue, ProductLine, Question, Questionnaire, Report, ReportEvent
from reports.periods import Period, current_report_month
from reports.workflow import open_periods

PASSWORD = "Demo@2026"
# The national administrator must log in with a code (accounts.second_factor): the demo binds an
# authenticator with this published key to `admin`. Add it to any TOTP app by hand, or ask
# `manage.py second_factor_code admin` (DEBUG only) for the code of the moment.
DEMO_AUTHENTICATOR_KEY = "SMEDEMOSMEDEMOSMEDEMOSMEDEMOSMED"
SAMPLE_MARK = dataset.QUESTIONNAIRE_TITLE

ADMINS = [
    # username, nickname, region code (None: national senior administrator)
    ("admin", "国家管理员", None),
    ("zhejiang", "浙江省管理员", "330000"),
    ("ningbo", "宁波市管理员", "330200"),
    ("guangdong", "广东省管理员", "440000"),
]

# username, enterprise name, county code, industry (小类), size, holding type, registration type
ENTERPRISES = [
    ("33029997", "宁波康尔企业", "330211", "1311", "3", "3", "173"),
    ("44010001", "广州明德机械有限公司", "440106", "3311", "3", "3", "173"),
    ("33020001", "宁波甬清精密五金有限公司", "330206", "3481", "4", "3", "173"),
    ("33020002", "宁波海曙新港纺织有限公司", "330203", "1711", "3", "3", "159"),
    ("33020003", "宁波鄞州恒达电容器有限公司", "330212", "3822", "2", "3", "173"),
    ("33020004", "余姚市舜宇塑料制品有限公司", "330281", "2927", "3", "3", "173"),
    ("33020005", "慈溪市康乐电器有限公司", "330282", "3919", "4", "3", "171"),
    ("33010001", "杭州西湖软件科技有限公司", "330106", "6513", "3", "3", "173"),
    ("33010002", "杭州钱塘汽车零部件有限公司", "330114", "3670", "2", "5", "310"),
    ("33030001", "温州鹿城鞋业有限公司", "330302", "1951", "4", "3", "172"),
    ("33030002", "瑞安市华联包装有限公司", "330381", "2231", "3", "3", "173"),
    ("44010002", "广州天河百货有限公司", "440106", "5211", "3", "1", "151"),
    ("44010003", "广州番禺珠宝首饰有限公司", "440113", "2438", "4", "4", "230"),
    ("44030001", "深圳南山电子器件有限公司", "440305", "3971", "2", "5", "330"),
    ("44030002", "深圳宝安精密结构件有限公司", "440306", "3311", "3", "3", "173"),
    ("44060001", "佛山禅城陶瓷水暖配件有限公司", "440604", "3352", "3", "3", "173"),
    ("32050001", "苏州吴中纺织面料有限公司", "320506", "1711", "2", "4", "220"),
    ("32010001", "南京鼓楼软件服务有限公司", "320106", "6513", "4", "3", "173"),
    ("37020001", "青岛市南再生资源有限公司", "370202", "5191", "3", "2", "120"),
    ("37010001", "济南历下钢材加工有限公司", "370102", "3130", "2", "1", "151"),
    ("51010001", "成都武侯农药化工有限公司", "510107", "2631", "3", "1", "160"),
    ("51010002", "成都高新电子真空器件有限公司", "510107", "3971", "4", "3", "173"),
    ("41010001", "郑州金水市政工程有限公司", "410105", "4813", "3", "1", "151"),
    ("41010002", "郑州面粉加工有限公司", "410105", "1312", "4", "2", "130"),
    ("11010001", "北京海淀计算机制造有限公司", "110108", "3919", "2", "3", "174"),
    ("42010001", "武汉武昌汽车配件有限公司", "420106", "3670", "3", "3", "173"),
    ("35020001", "厦门思明塑料日用品有限公司", "350203", "2927", "4", "4", "210"),
    ("61010001", "西安雁塔金属密封件有限公司", "610113", "3481", "3", "3", "173"),
    ("22010001", "长春南关纸制品有限公司", "220102", "2231", "4", "3", "171"),
    ("43010001", "长沙岳麓应用软件有限公司", "430104", "6513", "4", "3", "173"),
    ("34010001", "合肥蜀山电容器有限公司", "340104", "3822", "3", "3", "173"),
    ("36010001", "南昌东湖百货零售有限公司", "360102", "5211", "4", "3", "172"),
    ("45010001", "南宁青秀稻谷加工有限公司", "450103", "1311", "4", "2", "120"),
    ("53010001", "昆明五华珠宝有限公司", "530102", "2438", "4", "3", "173"),
    ("13010001", "石家庄长安钢压延有限公司", "130102", "3130", "2", "1", "110"),
    ("21010001", "沈阳和平金属结构有限公司", "210102", "3311", "3", "1", "151"),
]

NOTICES = [
    # kind, title, published (date), audience, region code
    ("notice", "关于做好本年度中小企业运行监测数据报送工作的通知", "2026-11-02", "all", None),
    ("notice", "中小企业运行监测平台微信公众号正式对外发布", "2026-10-15", "all", None),
    ("notice", "关于开展中小企业贷款情况问卷调查的通知", "2026-09-14", "enterprises", None),
    ("notice", "关于监测企业季度指标填报时间调整的通知", "2026-07-09", "enterprises", None),
    ("notice", "关于系统审核指标平衡关系举例说明", "2026-06-30", "all", None),
    ("notice", "关于做好地方审核工作的通知（管理员）", "2026-10-20", "admins", None),
    ("notice", "浙江省关于按时报送月度监测数据的通知", "2026-11-05", "all", "330000"),
    ("notice", "宁波市中小企业监测工作提醒", "2026-11-06", "enterprises", "330200"),
    ("notice", "广东省监测企业名录调整的通知", "2026-11-03", "all", "440000"),
    ("news", "广东省中小企业运行监测综合能力提升培训班在广州举行", "2026-09-05", "all", "440000"),
    ("news", "陕西省中小企业经济运行监测培训班在安康举办", "2026-04-29", "all", None),
    ("news", "吉林省中小企业运行监测平台培训班圆满结束", "2026-04-11", "all", None),
    ("news", "厦门市中小企业生产经营运行监测工作会议召开", "2026-01-28", "all", None),
    ("news", "河南省中小企业统计运行监测培训班在郑州举办", "2025-12-10", "all", None),
    ("news", "宁波市召开中小企业运行监测工作推进会", "2026-10-28", "all", "330200"),
]


QUESTIONNAIRE_TITLE = "中小企业生产经营情况调查问卷"
QUESTIONS = [
    (
        "与上月相比，本月新增订单",
        "single",
        True,
        [("up", "增加"), ("flat", "持平"), ("down", "减少")],
    ),
    (
        "目前企业资金状况",
        "single",
        True,
        [("ample", "宽裕"), ("normal", "正常"), ("tight", "紧张")],
    ),
    (
        "目前企业用工方面的主要问题（可多选）",
        "multiple",
        True,
        [
            ("hiring", "招工难"),
            ("cost", "用工成本上升"),
            ("turnover", "员工流失"),
            ("none", "无明显问题"),
        ],
    ),
    ("本月新签订单金额（千元）", "number", True, []),
    (
        "对下月生产经营的预期",
        "single",
        True,
        [("better", "向好"), ("same", "持平"), ("worse", "变差")],
    ),
    ("当前面临的主要困难和政策建议", "text", False, []),
]

# 本月 figures of a demo month (千元, 千瓦时, 人); 1-本月 is 本月 × month.
DEMO_FIGURES = {
    "gross_output": 5200,
    "export_delivery": 800,
    "electricity": 96000,
    "capacity_utilization": 78,
    "revenue": 5000,
    "operating_cost": 4100,
    "loan_balance": 12000,
    "financial_expense": 60,
    "receivables": 3500,
    "finished_goods": 900,
    "total_profit": 320,
    "taxes_payable": 150,
    "employees": 86,
    "total_assets": 48000,
    "total_liabilities": 26000,
    "rnd_expense": 210,
    "new_product_output": 1300,
}
FLOWS = ("gross_output", "export_delivery", "electricity")
YTD_ONLY = (
    "revenue",
    "operating_cost",
    "financial_expense",
    "total_profit",
    "taxes_payable",
    "rnd_expense",
    "new_product_output",
)


def _figures(code: str, period: Period, scale: Decimal | int) -> dict[str, Decimal | None]:
    """The columns a demo indicator has: 本月 and 1-本月 for flows, 1-本月 for the others."""
    monthly = Decimal(DEMO_FIGURES[code]) * Decimal(scale)
    if code in FLOWS:
        return {"current": monthly, "ytd": monthly * period.month}
    if code in YTD_ONLY:
        return {"current": None, "ytd": monthly * period.month}
    return {"current": None, "ytd": Decimal(DEMO_FIGURES[code])}


def _basic_info(enterprise: Enterprise) -> dict[str, object]:
    """Step 1 of a demo month, so that the next month's step 1 pre-fills from it."""
    return {
        "enterprise_name": enterprise.name,
        "code_type": enterprise.code_type,
        "code": enterprise.code,
        "legal_representative": "王建国",
        "industry": enterprise.industry_id,
        "region": enterprise.region_id,
        "registration_type": enterprise.registration_type_id,
        "holding_type": enterprise.holding_type,
        "size": enterprise.size,
        "listed": False,
        "stock_code": "",
        "address": f"{enterprise.region.name}工业园区168号",
        "postal_code": "315200",
        "website": "",
        "contact_person": enterprise.contact_person,
        "phone": enterprise.contact_phone,
        "fax": "",
        "mobile": "",
        "email": "",
        "main_business": "主营产品的生产与销售",
    }


def demo_uscc(region_code: str, serial: int) -> str:
    body = f"MA{serial:06d}"
    org = body + org_code_check_char(body)
    first17 = f"91{region_code}{org}"
    return first17 + uscc.calc_check_digit(first17)


class Command(BaseCommand):
    help = (
        "创建演示数据：国家与地方管理员、几十家分布在多个省份和行业的企业、通知公告与平台动态、"
        "一份调查问卷，以及两家示例企业已审核通过的往月报表。"
        "可重复运行，已存在的数据保持不变。所有演示账户的密码为 Demo@2026。"
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument(
            "--sample-enterprises",
            type=int,
            default=0,
            help="另生成这么多家合成企业及其近 24 个月的报表，供运行监测分析演示（只生成一次）。",
        )

    @transaction.atomic
    def handle(self, *args: Any, **options: Any) -> None:
        if not Region.objects.exists() or not Industry.objects.exists():
            raise CommandError("请先运行 load_reference_data 加载行政区划和行业分类。")
        created = 0
        for username, nickname, region_code in ADMINS:
            if User.objects.filter(username=username).exists():
                continue
            fields: dict[str, Any] = {"nickname": nickname}
            if region_code is None:
                fields.update(user_type=User.Type.SENIOR_ADMIN, is_staff=True, is_superuser=True)
            else:
                fields.update(
                    user_type=User.Type.LOCAL_ADMIN, region=Region.objects.get(code=region_code)
                )
            user = User.objects.create_user(username, PASSWORD, **fields)
            if second_factor.required(user):
                key = base64.b32decode(DEMO_AUTHENTICATOR_KEY).hex()
                TOTPDevice.objects.create(
                    user=user, name=second_factor.DEVICE_NAME, key=key, confirmed=True
                )
            created += 1
        for serial, row in enumerate(ENTERPRISES, start=1):
            created += self._enterprise(serial, *row)
        author = User.objects.get(username="admin")
        for kind, title, day, audience, region_code in NOTICES:
            if Notice.objects.filter(title=title).exists():
                continue
            published = timezone.make_aware(dt.datetime.fromisoformat(day).replace(hour=9))
            Notice.objects.create(
                kind=kind,
                title=title,
                body=f"{title}。\n\n请各相关单位认真阅读并按要求执行。\n\n全国中小企业生产经营运行监测平台",
                audience=audience,
                region_id=region_code,
                author=author,
                published_at=published,
            )
            created += 1
        created += self._questionnaire()
        created += self._history("33029997")
        created += self._history("44010001")
        # Reports written here bypass the workflow: the analytics aggregate is recomputed.
        cube.rebuild(Report.objects.values_list("period", flat=True).distinct().order_by())
        created += self._sample(options["sample_enterprises"])
        self.stdout.write(f"演示数据：新建 {created} 条记录。")

    def _sample(self, enterprises: int) -> int:
        """Synthetic enterprises with 24 months of reports (analytics.dataset), so that the
        analytics pages have a national picture to show; once, marked by its questionnaire."""
        if enterprises <= 0 or Questionnaire.objects.filter(title=SAMPLE_MARK).exists():
            return 0
        counts = dataset.generate(
            enterprises,
            24,
            str(current_report_month()),
            seed=2026,
            out=lambda line: self.stdout.write(line),
            append=True,
        )
        return counts.get("enterprises", 0) + counts.get("reports", 0)

    def _questionnaire(self) -> int:
        """One realistic survey on the open months, like those monitoring reports quote."""
        periods = ",".join(str(p) for p in open_periods())
        existing = Questionnaire.objects.filter(title=QUESTIONNAIRE_TITLE).first()
        if existing is not None:
            if existing.periods != periods:
                existing.periods = periods
                existing.save(update_fields=["periods"])
            return 0
        questionnaire = Questionnaire.objects.create(
            title=QUESTIONNAIRE_TITLE,
            description="了解企业订单、资金、用工和预期情况，请如实填写。",
            periods=periods,
        )
        for position, (text, kind, required, options) in enumerate(QUESTIONS, start=1):
            Question.objects.create(
                questionnaire=questionnaire,
                position=position,
                text=text,
                type=kind,
                required=required,
                options=[{"value": v, "label": label} for v, label in options],
            )
        return 1

    def _history(self, username: str) -> int:
        """Approved earlier months (the same month a year ago, and two months ago) so that the
        上年 columns pre-fill, the history page and the rules' averages have data."""
        user = User.objects.get(username=username)
        current = current_report_month()
        year_ago = Period(current.year - 1, current.month)
        created = 0
        for period, scale in ((year_ago, Decimal("0.9")), (current.previous().previous(), 1)):
            if Report.objects.filter(enterprise=user.enterprise, period=str(period)).exists():
                continue
            report = Report.objects.create(
                enterprise=user.enterprise,
                period=str(period),
                basic_info=_basic_info(user.enterprise),
                status=Report.Status.APPROVED,
                catalogue=snapshot(catalogue_for(period)),
                submitted_at=timezone.make_aware(
                    dt.datetime(period.next().year, period.next().month, 12, 10)
                ),
            )
            IndicatorValue.objects.bulk_create(
                IndicatorValue(report=report, code=code, **_figures(code, period, scale))
                for code in DEMO_FIGURES
                if code in report.catalogue
            )
            ProductLine.objects.create(
                report=report,
                name="大米",
                code="1311010",
                unit="吨",
                production_current=Decimal(120) * scale,
                production_ytd=Decimal(120 * period.month) * scale,
                sales_current=Decimal(110) * scale,
                sales_ytd=Decimal(110 * period.month) * scale,
            )
            admin = User.objects.get(username="admin")
            for action, before, after, actor in (
                ("create", "", Report.Status.DRAFT, user),
                ("submit", Report.Status.DRAFT, Report.Status.PENDING, user),
                ("approve", Report.Status.PENDING, Report.Status.APPROVED, admin),
            ):
                ReportEvent.objects.create(
                    report=report, action=action, from_status=before, to_status=after, actor=actor
                )
            created += 1
        return created

    def _enterprise(
        self,
        serial: int,
        username: str,
        name: str,
        county: str,
        industry: str,
        size: str,
        holding: str,
        registration: str,
    ) -> int:
        if User.objects.filter(username=username).exists():
            return 0
        enterprise = Enterprise.objects.create(
            name=name,
            code_type=Enterprise.CodeType.USCC,
            code=demo_uscc(county, serial),
            region=Region.objects.get(code=county),
            industry=Industry.objects.get(code=industry),
            registration_type_id=registration,
            size=EnterpriseSize(size),
            holding_type=HoldingType(holding),
            contact_person="联系人" + username[-2:],
            contact_phone=f"0{county[:3]}-8{serial:07d}"[:13],
        )
        User.objects.create_user(
            username,
            PASSWORD,
            user_type=User.Type.ENTERPRISE,
            enterprise=enterprise,
            nickname=name[:30],
        )
        return 1
