"""The language of validation rules: a small, safe expression language over the indicator
columns of one report, e.g. ``ytd(revenue) >= cur(revenue)`` or
``growth(export_delivery) between -100 and 300``.

National administrators type these rules, so the text is never given to Python's eval, exec or
compile: it is parsed with ``ast.parse`` and the tree is walked here against a strict whitelist,
into closures that compute with Decimal. Anything not on the whitelist is a RuleSyntaxError at
compile time, with a Chinese message for the admin form.

Unfilled values (None) make a rule "not applicable" (it passes): arithmetic propagates None and a
comparison that meets None stops the whole rule. Only ``filled(x)`` looks at None on purpose.
"""

from __future__ import annotations

import ast
import io
import tokenize
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, DecimalException, localcontext
from functools import lru_cache

Number = Decimal | None
MAX_RULE_LENGTH = 2000
HUNDRED = Decimal(100)
CENT = Decimal("0.01")


class RuleSyntaxError(ValueError):
    """The rule text is not a valid rule; the message is for the national administrator."""

    def __init__(self, message: str, unknown_codes: frozenset[str] = frozenset()) -> None:
        super().__init__(message)
        self.unknown_codes = unknown_codes


class NotApplicable(Exception):
    """Raised while evaluating when a comparison meets an unfilled value."""


def yoy_growth(current_ytd: Number, last_year_ytd: Number) -> Number:
    """累计同比增长 % = (本年1-本月 − 上年1-本月) / |上年1-本月| × 100, rounded half-up to 2 places
    as the manual shows (21.111 vs 12 → 75.93). None when either is unfilled or the base is 0.
    The one place this formula lives: the form, the rules and the analytics all call it."""
    if current_ytd is None or last_year_ytd is None or last_year_ytd == 0:
        return None
    with localcontext() as ctx:
        ctx.prec = 60
        growth = (current_ytd - last_year_ytd) / abs(last_year_ytd) * HUNDRED
        return growth.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class EvalContext:
    """What a rule can see of one report. `values` maps code → column → value, with the columns
    current, ytd, last_year_current, last_year_ytd (from the database or a form not yet saved);
    `previous_ytd` and `averages` come from the enterprise's earlier months (see
    reports.validation.load_history)."""

    month: int
    values: Mapping[str, Mapping[str, Number]]
    previous_ytd: Mapping[str, Number] = field(default_factory=dict)
    averages: Mapping[str, Number] = field(default_factory=dict)

    def column(self, code: str, column: str) -> Number:
        return as_decimal(self.values.get(code, {}).get(column))

    def prev_ytd(self, code: str) -> Number:
        # January has no earlier month in the same year, whatever the caller passed.
        return None if self.month == 1 else as_decimal(self.previous_ytd.get(code))

    def avg6(self, code: str) -> Number:
        return as_decimal(self.averages.get(code))


def as_decimal(value: object) -> Number:
    if value is None or isinstance(value, Decimal):
        return value
    if isinstance(value, int | float | str):
        return Decimal(str(value))
    raise TypeError(f"not a number: {value!r}")


NumFn = Callable[[EvalContext], Number]
BoolFn = Callable[[EvalContext], bool]


def _growth(ctx: EvalContext, code: str) -> Number:
    return yoy_growth(ctx.column(code, "ytd"), ctx.column(code, "last_year_ytd"))


# Functions taking one indicator code, and what they read.
CODE_FUNCTIONS: dict[str, Callable[[EvalContext, str], Number]] = {
    "cur": lambda ctx, code: ctx.column(code, "current"),
    "ytd": lambda ctx, code: ctx.column(code, "ytd"),
    "ly_cur": lambda ctx, code: ctx.column(code, "last_year_current"),
    "ly_ytd": lambda ctx, code: ctx.column(code, "last_year_ytd"),
    "growth": _growth,
    "prev_ytd": lambda ctx, code: ctx.prev_ytd(code),
    "avg6": lambda ctx, code: ctx.avg6(code),
}
FUNCTION_NAMES = (*CODE_FUNCTIONS, "abs", "filled", "month")

COMPARE = {
    ast.Lt: (lambda a, b: a < b),
    ast.LtE: (lambda a, b: a <= b),
    ast.Gt: (lambda a, b: a > b),
    ast.GtE: (lambda a, b: a >= b),
    ast.Eq: (lambda a, b: a == b),
    ast.NotEq: (lambda a, b: a != b),
}
ARITHMETIC = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/"}


@dataclass(frozen=True)
class CompiledRule:
    text: str
    codes: frozenset[str]
    _test: BoolFn = field(repr=False, compare=False)

    def evaluate(self, ctx: EvalContext) -> bool | None:
        """True = passes, False = fails, None = not applicable (an unfilled value, a division
        by zero or a growth without base on the way)."""
        try:
            return self._test(ctx)
        except NotApplicable:
            return None


def compile_rule(text: str, codes: set[str] | frozenset[str]) -> CompiledRule:
    """Compile a rule against the indicator codes it may name; RuleSyntaxError if it is not one."""
    return _compile(text, frozenset(codes))


@lru_cache(maxsize=1024)
def _compile(text: str, codes: frozenset[str]) -> CompiledRule:
    if not text or not text.strip():
        raise RuleSyntaxError("表达式不能为空。")
    if len(text) > MAX_RULE_LENGTH:
        raise RuleSyntaxError(f"表达式过长（最多{MAX_RULE_LENGTH}个字符）。")
    source = rewrite_between(text)
    try:
        tree = ast.parse(source, mode="eval")
    except (SyntaxError, ValueError, MemoryError, RecursionError):
        raise RuleSyntaxError(
            "表达式语法错误，请检查括号、运算符和 between … and … 的写法。"
        ) from None
    compiler = _Compiler(codes)
    try:
        test = compiler.condition(tree.body)
    except RecursionError:
        raise RuleSyntaxError("表达式嵌套过深。") from None
    if compiler.unknown:
        names = "、".join(sorted(compiler.unknown))
        raise RuleSyntaxError(f"未知的指标代码：{names}。", frozenset(compiler.unknown))
    return CompiledRule(text=text, codes=frozenset(compiler.used), _test=test)


# --- `X between A and B` → `(A <= X <= B)` -------------------------------------------------

_STOP_BEFORE = {"and", "or", "not", "between"}
_COMPARISON_OPS = {"<", "<=", ">", ">=", "==", "!="}


def rewrite_between(text: str) -> str:
    """Rewrite every `X between A and B` (keywords in any case) into `(A <= X <= B)`, on tokens,
    so that the `and` of between is never taken for a boolean `and`. The rest of the text is
    left to ast.parse."""
    tokens = _tokens(text)
    while True:
        at = next((i for i, t in enumerate(tokens) if _is_name(t, "between")), None)
        if at is None:
            return " ".join(tokens)
        start = _operand_start(tokens, at)
        and_at = _between_and(tokens, at)
        end = _operand_end(tokens, and_at + 1)
        subject, low, high = tokens[start:at], tokens[at + 1 : and_at], tokens[and_at + 1 : end]
        if not subject or not low or not high:
            raise RuleSyntaxError("between 的写法应为：X between A and B。")
        tokens = [
            *tokens[:start],
            "(",
            *low,
            "<=",
            *subject,
            "<=",
            *high,
            ")",
            *tokens[end:],
        ]


def _tokens(text: str) -> list[str]:
    skip = {
        tokenize.NEWLINE,
        tokenize.NL,
        tokenize.COMMENT,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
    try:
        return [
            t.string
            for t in tokenize.generate_tokens(io.StringIO(text.strip()).readline)
            if t.type not in skip
        ]
    except (tokenize.TokenError, SyntaxError, ValueError):
        raise RuleSyntaxError("表达式语法错误，请检查括号和引号是否成对。") from None


def _is_name(token: str, word: str) -> bool:
    return token.lower() == word


def _operand_start(tokens: list[str], at: int) -> int:
    """Where the X of `X between` starts: after the nearest boolean keyword, comparison, comma
    or unmatched `(` at the same depth."""
    depth = 0
    i = at - 1
    while i >= 0:
        token = tokens[i]
        if token == ")":
            depth += 1
        elif token == "(":
            if depth == 0:
                break
            depth -= 1
        elif depth == 0 and (
            token.lower() in _STOP_BEFORE or token in _COMPARISON_OPS or token == ","
        ):
            break
        i -= 1
    return i + 1


def _between_and(tokens: list[str], at: int) -> int:
    depth = 0
    for i in range(at + 1, len(tokens)):
        token = tokens[i]
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                break
        elif depth == 0 and _is_name(token, "and"):
            return i
    raise RuleSyntaxError("between 缺少 and：应写作 X between A and B。")


def _operand_end(tokens: list[str], start: int) -> int:
    depth = 0
    for i in range(start, len(tokens)):
        token = tokens[i]
        if token == "(":
            depth += 1
        elif token == ")":
            depth -= 1
            if depth < 0:
                return i
        elif depth == 0 and (
            token.lower() in _STOP_BEFORE or token in _COMPARISON_OPS or token == ","
        ):
            return i
    return len(tokens)


# --- the whitelist walk -------------------------------------------------------------------


class _Compiler:
    """Turns an AST into closures. Every node is either a number (Decimal or None) or a
    condition (bool), and each position takes only one of the two."""

    def __init__(self, codes: frozenset[str]) -> None:
        self.codes = codes
        self.used: set[str] = set()
        self.unknown: set[str] = set()

    def condition(self, node: ast.expr) -> BoolFn:
        if isinstance(node, ast.BoolOp):
            parts = [self.condition(v) for v in node.values]
            if isinstance(node.op, ast.And):
                return lambda ctx: all(p(ctx) for p in parts)
            return lambda ctx: any(p(ctx) for p in parts)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            operand = self.condition(node.operand)
            return lambda ctx: not operand(ctx)
        if isinstance(node, ast.Compare):
            return self._compare(node)
        if isinstance(node, ast.Call) and self._call_name(node) == "filled":
            (arg,) = self._args(node, 1, "filled")
            value = self.number(arg)
            return lambda ctx: value(ctx) is not None
        # Not a condition: compiling it as a number gives the precise complaint about a
        # forbidden construct; if it is a valid number, the complaint is that it is no condition.
        self.number(node)
        raise RuleSyntaxError("规则必须是一个条件（比较），例如 ytd(revenue) >= cur(revenue)。")

    def number(self, node: ast.expr) -> NumFn:
        if isinstance(node, ast.Constant):
            return self._constant(node)
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
            operand = self.number(node.operand)
            if isinstance(node.op, ast.UAdd):
                return operand
            return lambda ctx: _neg(operand(ctx))
        if isinstance(node, ast.BinOp):
            if type(node.op) not in ARITHMETIC:
                raise RuleSyntaxError("只允许 + - * / 四则运算（不允许 **、//、% 等）。")
            left, right = self.number(node.left), self.number(node.right)
            op = ARITHMETIC[type(node.op)]
            return lambda ctx: _arithmetic(op, left(ctx), right(ctx))
        if isinstance(node, ast.Call):
            return self._numeric_call(node)
        if isinstance(node, ast.Name):
            raise RuleSyntaxError(
                f"“{node.id}”不能单独出现：指标代码要写在函数里，例如 ytd({node.id})。"
            )
        if isinstance(node, ast.BoolOp | ast.Compare) or (
            isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not)
        ):
            raise RuleSyntaxError("此处需要数值，而不是条件。")
        raise _forbidden(node)

    def _constant(self, node: ast.Constant) -> NumFn:
        value = node.value
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise RuleSyntaxError("只允许数字常量（不允许字符串、True/False、None 等）。")
        number = Decimal(str(value))
        if not number.is_finite():
            raise RuleSyntaxError("数字常量超出范围。")
        return lambda ctx: number

    def _compare(self, node: ast.Compare) -> BoolFn:
        ops = []
        for op in node.ops:
            if type(op) not in COMPARE:
                raise RuleSyntaxError("只允许比较运算 < <= > >= == !=（不允许 in、is 等）。")
            ops.append(COMPARE[type(op)])
        operands = [self.number(n) for n in (node.left, *node.comparators)]

        def test(ctx: EvalContext) -> bool:
            values = [o(ctx) for o in operands]
            if any(v is None for v in values):
                raise NotApplicable
            return all(op(a, b) for op, a, b in zip(ops, values, values[1:], strict=False))

        return test

    def _numeric_call(self, node: ast.Call) -> NumFn:
        name = self._call_name(node)
        if name in CODE_FUNCTIONS:
            (arg,) = self._args(node, 1, name)
            code = self._code(arg, name)
            read = CODE_FUNCTIONS[name]
            return lambda ctx: read(ctx, code)
        if name == "abs":
            (arg,) = self._args(node, 1, "abs")
            value = self.number(arg)
            return lambda ctx: _abs(value(ctx))
        if name == "month":
            self._args(node, 0, "month")
            return lambda ctx: Decimal(ctx.month)
        if name == "filled":
            raise RuleSyntaxError("filled(…) 是条件，不能参与运算。")
        raise _forbidden(node)

    def _call_name(self, node: ast.Call) -> str:
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTION_NAMES:
            allowed = "、".join(FUNCTION_NAMES)
            raise RuleSyntaxError(f"不允许的函数调用；可用的函数：{allowed}。")
        return node.func.id

    def _args(self, node: ast.Call, count: int, name: str) -> list[ast.expr]:
        if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
            raise RuleSyntaxError(f"{name}(…) 不接受关键字参数或 * 参数。")
        if len(node.args) != count:
            raise RuleSyntaxError(f"{name}(…) 需要 {count} 个参数。")
        return list(node.args)

    def _code(self, arg: ast.expr, name: str) -> str:
        if not isinstance(arg, ast.Name):
            raise RuleSyntaxError(f"{name}(…) 的参数必须是指标代码，例如 {name}(revenue)。")
        if arg.id not in self.codes:
            self.unknown.add(arg.id)
        self.used.add(arg.id)
        return arg.id


def _forbidden(node: ast.AST) -> RuleSyntaxError:
    what = {
        ast.Attribute: "属性访问（.）",
        ast.Subscript: "下标（[]）",
        ast.Lambda: "lambda",
        ast.List: "列表",
        ast.Tuple: "元组",
        ast.Dict: "字典",
        ast.Set: "集合",
        ast.ListComp: "推导式",
        ast.SetComp: "推导式",
        ast.DictComp: "推导式",
        ast.GeneratorExp: "推导式",
        ast.IfExp: "条件表达式（if … else）",
        ast.JoinedStr: "字符串",
        ast.NamedExpr: "赋值（:=）",
        ast.Await: "await",
        ast.Yield: "yield",
        ast.YieldFrom: "yield",
        ast.Starred: "* 展开",
    }.get(type(node), type(node).__name__)
    return RuleSyntaxError(f"表达式中不允许使用{what}。")


def _neg(value: Number) -> Number:
    return None if value is None else -value


def _abs(value: Number) -> Number:
    return None if value is None else abs(value)


def _arithmetic(op: str, left: Number, right: Number) -> Number:
    if left is None or right is None:
        return None
    try:
        with localcontext() as ctx:
            ctx.prec = 60
            if op == "+":
                return left + right
            if op == "-":
                return left - right
            if op == "*":
                return left * right
            if right == 0:
                return None
            return left / right
    except DecimalException:
        return None
