from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login, logout, update_session_auth_hash
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_POST

from accounts import second_factor
from accounts.administrators import (
    AdministratorForm,
    administrators_managed_by,
    create_administrator,
    get_administrator,
    may_manage_administrators,
    set_active,
)
from accounts.forms import (
    BindForm,
    LoginForm,
    PasswordChangeForm,
    ProfileForm,
    RegistrationForm,
    SecondFactorForm,
)
from accounts.models import OutboxMessage, User
from accounts.services import (
    AccountError,
    api_tokens_of,
    confirm_binding,
    login_with_identifier,
    register_enterprise,
    revoke_api_token,
    revoke_api_tokens,
    send_binding_code,
)
from lib.access import login_required, posted, role_required


# sensitive_post_parameters: an error report of these views (the debug page, an e-mail to ADMINS)
# shows the POSTed passwords and codes as stars (tests/test_log_hygiene.py).
@sensitive_post_parameters("password")
def login_view(request: HttpRequest) -> HttpResponse:
    next_url = request.POST.get("next") or request.GET.get("next") or ""
    if not url_has_allowed_host_and_scheme(next_url, {request.get_host()}):
        next_url = ""
    form = LoginForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            user = login_with_identifier(
                request, form.cleaned_data["username"], form.cleaned_data["password"]
            )
        except AccountError as exc:
            form.add_error(None, exc.message)
        else:
            if second_factor.needs_code(user):
                second_factor.begin_login(request, user, next_url)
                return redirect("accounts:login_second_factor")
            return _complete_login(request, user, None, next_url)
    return render(request, "accounts/login.html", {"form": form, "next": next_url})


def _complete_login(
    request: HttpRequest, user: User, device: second_factor.TOTPDevice | None, next_url: str
) -> HttpResponse:
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")
    second_factor.mark_session(request, device)
    return redirect(next_url or "portal:home")


@sensitive_post_parameters("code")
def login_second_factor_view(request: HttpRequest) -> HttpResponse:
    """The login's second step: the code of the bound authenticator, or, for a national
    administrator without one, binding it (QR code, then a code from it)."""
    pending = second_factor.pending_login(request)
    if pending is None:
        messages.warning(request, "登录已超时，请重新输入用户ID和密码。")
        return redirect("accounts:login")
    user = pending.user
    binding = second_factor.enrolment(user) if second_factor.device_of(user) is None else None
    form = SecondFactorForm(posted(request))
    if request.method == "POST" and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if binding is not None:
                device = second_factor.confirm_enrolment(user, code, request)
            else:
                device = second_factor.verify(user, code)
        except AccountError as exc:
            if second_factor.count_failure(request, user, exc.message):
                messages.error(request, "动态口令错误次数过多，请重新输入用户ID和密码。")
                return redirect("accounts:login")
            form.add_error("code", exc.message)
        else:
            return _complete_login(request, user, device, pending.next_url)
    context: dict[str, object] = {"form": form, "pending_user": user}
    if binding is not None:
        context.update(qr=second_factor.qr_svg(binding), secret=second_factor.secret_text(binding))
    return render(request, "accounts/login_second_factor.html", context)


@require_POST
def logout_view(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, "您已安全退出。")
    return redirect("accounts:login")


@sensitive_post_parameters("password1", "password2")
def register_view(request: HttpRequest) -> HttpResponse:
    form = RegistrationForm(posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            register_enterprise(form.registration())
        except AccountError as exc:
            form.add_error(exc.field, exc.message)
        else:
            messages.success(request, "注册成功，请使用用户ID和密码登录。")
            return redirect("accounts:login")
    return render(request, "accounts/register.html", {"form": form})


@login_required
def profile_view(request: HttpRequest) -> HttpResponse:
    form = ProfileForm(posted(request), instance=request.user)
    if request.method == "POST" and form.is_valid():
        form.save()
        messages.success(request, "个人信息已保存。")
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, **_bind_context(request.user)})


def _bind_context(user: User, **extra: object) -> dict[str, object]:
    return {
        "bindings": [
            {"channel": "mobile", "label": "手机", "value": user.mobile, "input": "tel"},
            {"channel": "email", "label": "邮箱", "value": user.email, "input": "email"},
        ],
        **extra,
    }


@sensitive_post_parameters("code")
@login_required
@require_POST
def bind_view(request: HttpRequest, step: str) -> HttpResponse:
    """绑定 (send a code) or 保存 (confirm it); answers with the binding box re-rendered."""
    form = BindForm(request.POST)
    channel = request.POST.get("channel", "")
    result: dict[str, object] = {"channel": channel, "target": request.POST.get("target", "")}
    if not form.is_valid():
        result["error"] = next(iter(form.errors.values()))[0]
    else:
        data = form.cleaned_data
        try:
            if step == "send":
                send_binding_code(request.user, data["channel"], data["target"])
                result["sent"] = True
                result["info"] = "验证码已发送，5分钟内有效，请输入收到的验证码后点击【保存】。"
            else:
                confirm_binding(request.user, data["channel"], data["target"], data["code"])
                result["info"] = "绑定成功，今后可以使用它登录。"
                result["target"] = ""
        except AccountError as exc:
            result["error"] = exc.message
            result["sent"] = step == "confirm"
    context = _bind_context(request.user, result=result)
    template = "accounts/_bindings.html" if request.htmx else "accounts/profile.html"
    if not request.htmx:
        context["form"] = ProfileForm(instance=request.user)
    return render(request, template, context)


@sensitive_post_parameters("old_password", "new_password1", "new_password2")
@login_required
def password_change_view(request: HttpRequest) -> HttpResponse:
    form = PasswordChangeForm(request.user, posted(request))
    if request.method == "POST" and form.is_valid():
        user = form.save()
        # Keeps this session; every other session of the user ends with the old password hash.
        update_session_auth_hash(request, user)
        revoke_api_tokens(user)
        messages.success(request, "密码已修改，其他设备上的登录已失效。")
        return redirect(reverse("accounts:password_change"))
    return render(request, "accounts/password_change.html", {"form": form})


# The second factor of an administrator's own account (accounts.second_factor).


@sensitive_post_parameters("code")
@role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
def second_factor_view(request: HttpRequest) -> HttpResponse:
    """动态口令: bind an authenticator (or a new one in place of a lost or replaced phone), or
    turn it off where that is allowed. Each a security event."""
    user = request.user
    device = second_factor.device_of(user)  # type: ignore[arg-type]
    action = request.POST.get("action", "") if request.method == "POST" else ""
    form = SecondFactorForm(request.POST if action else None)
    binding = action == "bind" or request.GET.get("bind") == "1"
    if action and form.is_valid():
        code = form.cleaned_data["code"]
        try:
            if action == "bind":
                device = second_factor.confirm_enrolment(user, code, request)  # type: ignore[arg-type]
                # This session has just given a code: it stands as a login with the code.
                second_factor.mark_session(request, device)
                messages.success(request, "动态口令已启用，今后登录时需要输入验证器上的动态口令。")
            elif action == "disable":
                second_factor.disable(user, code, request)  # type: ignore[arg-type]
                messages.success(request, "动态口令已关闭。")
            else:
                raise Http404
        except AccountError as exc:
            if exc.field is None:  # not about the code typed (a national administrator's off)
                messages.error(request, exc.message)
                return redirect("accounts:second_factor")
            form.add_error("code", exc.message)
        else:
            return redirect("accounts:second_factor")
    context: dict[str, object] = {
        "form": form,
        "device": device,
        "required": second_factor.required(user),  # type: ignore[arg-type]
        "binding": binding,
    }
    if binding:
        new = second_factor.enrolment(user)  # type: ignore[arg-type]
        context.update(qr=second_factor.qr_svg(new), secret=second_factor.secret_text(new))
    return render(request, "accounts/second_factor.html", context)


# API tokens: each user sees and revokes only their own (issue 8). The token itself is never
# stored (only its hash), so the page names a token by its id.


@login_required
def tokens_view(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    tokens = [{"token": t, "expired": t.expires_at <= now} for t in api_tokens_of(request.user)]
    return render(request, "accounts/tokens.html", {"tokens": tokens})


@login_required
@require_POST
def token_revoke_view(request: HttpRequest, pk: int) -> HttpResponse:
    # Another user's token is answered as a missing one: its existence is not confirmed.
    if not revoke_api_token(request.user, pk):
        raise Http404
    messages.success(request, f"令牌 #{pk} 已吊销，使用它的程序将无法再访问接口。")
    return redirect("accounts:tokens")


@login_required
@require_POST
def tokens_revoke_all_view(request: HttpRequest) -> HttpResponse:
    revoke_api_tokens(request.user)
    messages.success(request, "您的全部API令牌已吊销。")
    return redirect("accounts:tokens")


@role_required(User.Type.SENIOR_ADMIN)
def outbox_view(request: HttpRequest) -> HttpResponse:
    page = Paginator(OutboxMessage.objects.all(), 30).get_page(request.GET.get("page"))
    return render(request, "accounts/outbox.html", {"page": page})


# Administrator accounts -----------------------------------------------------------------------


def _administrators_allowed(request: HttpRequest) -> None:
    if not may_manage_administrators(request.user):  # type: ignore[arg-type]
        raise Http404


@role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
def administrators_view(request: HttpRequest) -> HttpResponse:
    _administrators_allowed(request)
    admins = second_factor.with_bound_flag(administrators_managed_by(request.user))  # type: ignore[arg-type]
    page = Paginator(admins, 30).get_page(request.GET.get("page"))
    return render(request, "accounts/administrators.html", {"page": page})


@sensitive_post_parameters("password1", "password2")
@role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
def administrator_create_view(request: HttpRequest) -> HttpResponse:
    _administrators_allowed(request)
    form = AdministratorForm(posted(request), creator=request.user)
    if request.method == "POST" and form.is_valid():
        user = create_administrator(request, form)
        messages.success(request, f"已创建管理员账户 {user.username}。")
        return redirect("accounts:administrators")
    return render(request, "accounts/administrator_form.html", {"form": form})


@role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
@require_POST
def administrator_toggle_view(request: HttpRequest, pk: int) -> HttpResponse:
    _administrators_allowed(request)
    administrator = get_administrator(request.user, pk)  # type: ignore[arg-type]
    set_active(request, administrator, not administrator.is_active)
    state = "启用" if administrator.is_active else "停用"
    messages.success(request, f"已{state}管理员账户 {administrator.username}。")
    return redirect("accounts:administrators")


@role_required(User.Type.LOCAL_ADMIN, User.Type.SENIOR_ADMIN)
@require_POST
def administrator_reset_second_factor_view(request: HttpRequest, pk: int) -> HttpResponse:
    """重置动态口令: an administrator lost the phone; the account binds a new authenticator at
    its next login (a national administrator must) or on its 动态口令 page."""
    _administrators_allowed(request)
    administrator = get_administrator(request.user, pk)  # type: ignore[arg-type]
    if second_factor.reset(administrator, by=request.user, request=request):  # type: ignore[arg-type]
        messages.success(
            request, f"已重置 {administrator.username} 的动态口令，其下次登录时需重新绑定。"
        )
    else:
        messages.info(request, f"{administrator.username} 没有绑定动态口令验证器。")
    return redirect("accounts:administrators")
