"""The deadline day, as locust users (bin/load-test runs this file; it is not imported by Django).

- Clerk: one enterprise's whole month, as its clerk does it in the browser: the login page, log in,
  open the current month, save 企业基本情况 (step 1), 主要经济指标 (step 2: when the check asks for
  reasons, give them and save again), 产品 (step 3: add the main product when none is carried),
  answer every questionnaire of step 4, submit, log out. Every form is read from the page the
  server sent (its CSRF token, hidden version, pre-filled values) and posted back as a browser
  would; the figures typed in are the ones the dataset generator wrote for that enterprise and
  month (prepare_load keeps them), so they agree with the enterprise's own history.
- Administrator: the worklist, the 填报情况 page, a report's review page.
- Ceiling: the same server's minimal authenticated endpoint that writes one row (POST
  /loadtest/ping/), logged in as the local administrators (no second step).

The national administrator's login has a second step: the code of an authenticator whose key
prepare_load put in the pool, computed as the person's app would; a code is good once, so a second
login within the same 30 s takes the next step's code (accepted one step ahead) or waits for it.

Every submission the server acknowledged (302 to the home page) is appended to LOAD_ACKS, so
check_load can find each one in the database, once. LOAD_THINK is a person's pause before each form
is sent (reading the page, typing) and between two tasks, in seconds (0: none, the saturation
phases); the page after a form follows at once, as the browser follows the redirect."""

from __future__ import annotations

import base64
import itertools
import json
import os
import re
import sys
import time
from typing import Any
from urllib.parse import urlencode

import gevent
from django_otp.oath import hotp
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from loadtest import clerk
from loadtest.clerk import Forms, problem

POOL: dict[str, Any] = json.loads(open(os.environ.get("LOAD_POOL", "var/load/pool.json")).read())
PERIOD: str = POOL["period"]
PASSWORD = os.environ.get("LOAD_PASSWORD", "Load@2026")
THINK = float(os.environ.get("LOAD_THINK", "0"))
FIRST = int(os.environ.get("LOAD_FIRST", "0"))  # where this phase starts in the pool
ACKS = open(os.environ.get("LOAD_ACKS", "var/load/acks.jsonl"), "a", buffering=1)
ENTERPRISES = iter(POOL["enterprises"][FIRST:])
ADMINS = itertools.cycle(POOL["admins"])
AUTHENTICATORS: dict[str, str] = POOL.get("authenticators", {})
CEILING_ADMINS = itertools.cycle([a for a in POOL["admins"] if a not in AUTHENTICATORS])
SPENT_STEP: dict[str, int] = {}  # the last 30 s step whose code each account has used
CODE_PAGE = "/accounts/login/code/"


class Visitor(FastHttpUser):
    """A browser: cookies kept, forms posted url-encoded. locust's FastHttpUser (geventhttpclient)
    rather than HttpUser (requests): the load generator shares the machine's two cores with the
    server, and it spends several times less of them per request."""

    abstract = True
    wait_time = constant(THINK)

    def think(self) -> None:
        """The person's pause between two requests: reading the page, typing the figures."""
        if THINK:
            gevent.sleep(THINK)

    def post_form(self, url: str, data: Any, name: str, **kwargs: Any) -> Any:
        return self.client.post(
            url,
            data=urlencode(data),
            headers={"Content-Type": "application/x-www-form-urlencoded"},
            name=name,
            allow_redirects=False,
            **kwargs,
        )

    def csrf(self) -> str:
        return next((c.value for c in self.client.cookiejar if c.name == "csrftoken"), "") or ""

    def login(self, username: str) -> bool:
        page = self.client.get("/accounts/login/", name="login page")
        form = Forms(page.text).form_with("username")
        if form is None:
            return False
        self.think()
        with self.post_form(
            "/accounts/login/",
            form.data(username=username, password=PASSWORD),
            "login",
            catch_response=True,
        ) as response:
            if response.status_code != 302:
                response.failure(f"登录未成功：{problem(response.text)}")
                return False
            second_step = response.headers.get("Location", "").endswith(CODE_PAGE)
        return self.give_code(username) if second_step else True

    def give_code(self, username: str) -> bool:
        """The authenticator's code, as the person types it. A code is good once: one spent by
        an earlier phase (another locust process) within the same 30 s is refused, and the
        person waits for the next one (past the throttle of the refused try) and types that."""
        page = self.client.get(CODE_PAGE, name="login code page")
        form = Forms(page.text).form_with("code")
        if form is None or username not in AUTHENTICATORS:
            return False
        key = base64.b32decode(AUTHENTICATORS[username])
        for attempt in range(3):
            now = int(time.time()) // 30
            step = max(now, SPENT_STEP.get(username, -1) + 1)
            if step > now + 1:  # both this step's code and the next's are spent
                gevent.sleep((step - 1) * 30 - time.time() + 0.1)
            SPENT_STEP[username] = step
            code = f"{hotp(key, step):06d}"
            with self.post_form(
                CODE_PAGE, form.data(code=code), "login code", catch_response=True
            ) as response:
                if response.status_code == 302:
                    return True
                again = Forms(response.text).form_with("code")
                if again is None or attempt == 2:
                    response.failure(f"动态口令未通过：{problem(response.text)}")
                    return False
                response.success()  # the person reads the message and waits for a new code
            form = again
            gevent.sleep(2**attempt + 0.1)  # the throttle after a refused code: 1, 2 … s
        return False

    def logout(self) -> None:
        self.post_form("/accounts/logout/", {"csrfmiddlewaretoken": self.csrf()}, "logout")
        self.client.cookiejar.clear()


class Clerk(Visitor):
    """One enterprise's month, start to finish, then the next enterprise of the pool."""

    weight = 9

    @task
    def month(self) -> None:
        enterprise = next(ENTERPRISES, None)
        if enterprise is None:
            raise StopUser  # the pool is used up: this user is done
        base = f"/reports/{PERIOD}"
        if not self.login(enterprise["username"]):
            return
        # 【开始填报】: the current month, which lands on step 1 (a redirect, followed).
        landing = self.client.get("/reports/", name="open month (step1 page)")
        if not (
            self.save(f"{base}/basic/", "step1", clerk.step1, page=landing.text)
            and self.save(f"{base}/indicators/", "step2", clerk.step2(enterprise))
            and self.save(f"{base}/products/", "step3", clerk.step3(enterprise, self.added_row))
            and self.questionnaires(base)
        ):
            self.logout()
            return
        self.think()
        with self.post_form(
            f"{base}/submit/", {"csrfmiddlewaretoken": self.csrf()}, "submit", catch_response=True
        ) as response:
            if response.status_code == 302 and response.headers.get("Location") == "/":
                ACKS.write(
                    json.dumps(
                        {
                            "username": enterprise["username"],
                            "enterprise_id": enterprise["enterprise_id"],
                            "period": PERIOD,
                        }
                    )
                    + "\n"
                )
            else:
                response.failure(f"上报未成功：{problem(response.text)}")
        self.logout()

    def save(self, url: str, step: str, fill: clerk.Fill, page: str | None = None) -> bool:
        """GET the step (unless the browser is on it already), fill its form, POST it; when the
        check asks for reasons, give them and post again (a second save, as the clerk does)."""
        if page is None:
            page = self.client.get(url, name=f"{step} page").text
        form = Forms(page).form_with("version")
        if form is None:
            return False
        data = fill(form)
        self.think()
        for attempt in ("save", "explain"):
            with self.post_form(url, data, f"{step} {attempt}", catch_response=True) as response:
                if response.status_code == 302:
                    return True
                again = Forms(response.text).form_with("version")
                reasons = clerk.explained(again) if again is not None else None
                if attempt == "save" and reasons is not None:
                    response.success()  # the warnings the clerk explains next
                    data = reasons
                    self.think()
                    continue
                # The status says what the page cannot (a 403 of CSRF, a 409, a 503, a 500).
                status = response.status_code
                response.failure(f"{step} 未保存（HTTP {status}）：{problem(response.text)}")
                return False
        return False

    def added_row(self) -> str:
        return self.client.get(f"/reports/{PERIOD}/products/row/", name="step3 add row").text

    def questionnaires(self, base: str) -> bool:
        page = self.client.get(f"{base}/questionnaires/", name="step4 page")
        for link in clerk.questionnaire_links(page.text, base):
            answer = self.client.get(link, name="step4 questionnaire")
            form = Forms(answer.text).form_with("version")
            if form is None:
                return False
            self.think()
            with self.post_form(
                link, clerk.answers(form), "step4 save", catch_response=True
            ) as response:
                if response.status_code != 302:
                    response.failure(f"问卷未保存：{problem(response.text)}")
                    return False
        return True


class Administrator(Visitor):
    """A reviewer on the deadline day: worklist, 填报情况, a report."""

    weight = 1

    def on_start(self) -> None:
        if not self.login(next(ADMINS)):
            raise StopUser

    @task(3)
    def worklist(self) -> None:
        page = self.client.get("/review/", name="admin worklist")
        reports = [h for h in Forms(page.text).links if re.fullmatch(r"/review/reports/\d+/", h)]
        if reports:
            self.client.get(reports[0], name="admin report")

    @task(2)
    def completion(self) -> None:
        self.client.get("/stats/completion/", name="admin completion")


class Ceiling(Visitor):
    """The ceiling: the same stack (session, log-in check, CSRF) and one INSERT. Run alone
    (bin/load-test names the classes of each phase)."""

    def on_start(self) -> None:
        if not self.login(next(CEILING_ADMINS)):
            raise StopUser

    @task
    def ping(self) -> None:
        self.client.post(
            "/loadtest/ping/", headers={"X-CSRFToken": self.csrf()}, name="ceiling ping"
        )
