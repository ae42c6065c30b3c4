"""The deadline-day benchmark (bin/load-test; README "Production", docs/benchmarks.md).

On a database made by generate_dataset (PostgreSQL: DATABASE_URL, and REDIS_URL for the cache and
sessions as in production), it readies the pool (manage.py prepare_load), starts the production
server (gunicorn with sme/gunicorn.conf.py, DEBUG off) on its own port and runs three phases with
locust (loadtest/locustfile.py), each with the same number of concurrent users:

1. ceiling    the minimal authenticated endpoint that writes one row, no pause between requests;
2. saturated  clerks' whole months (and administrators' pages), no pause: the most the server does;
3. deadline   the same users pausing THINK seconds between requests, as people do: the latencies.

Then manage.py check_load finds every acknowledged submission in the database, once, and the
resident memory of each app worker is read from /proc. Prints the figures and the ratio of the
journeys' request rate to the ceiling's, and writes them to var/load/summary.md. The server's own
time per request (gunicorn's access log) is reported beside locust's client-side latencies."""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import signal
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
# The pool file holds figures of one database's enterprises: one folder per database.
OUT = (
    ROOT
    / "var"
    / "load"
    / (urllib.parse.urlsplit(os.environ.get("DATABASE_URL", "")).path.strip("/") or "default")
)
STEP_SAVES = ("step1 save", "step2 save", "step2 explain", "step3 save", "step4 save")


def manage(*args: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [str(BIN / "python"), "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if done.returncode:
        sys.exit(f"manage.py {' '.join(args)} 失败：\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def wait_ready(url: str, seconds: int = 60) -> None:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    sys.exit(f"服务器未在 {seconds} 秒内响应：{url}")


def workers_rss_mb(master: int) -> list[float]:
    children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    sizes = []
    for pid in children:
        status = Path(f"/proc/{pid}/status").read_text()
        match = re.search(r"VmRSS:\s+(\d+) kB", status)
        if match:
            sizes.append(int(match.group(1)) / 1024)
    return sizes


def cpu_seconds(master: int) -> dict[str, float]:
    """CPU time used so far (user + system) by the app workers (children of gunicorn's master)
    and by PostgreSQL on this machine; with the load generator's (this script's children), the
    split of where a phase's CPU went. A PostgreSQL backend that ended has left its time in its
    postmaster's count of waited-for children, so the live processes' own times plus those
    counts cover every backend of the phase."""
    tick = os.sysconf("SC_CLK_TCK")

    def times(pid: str) -> list[int]:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return [int(f) for f in fields[11:15]]  # utime, stime, cutime, cstime

    workers = Path(f"/proc/{master}/task/{master}/children").read_text().split()
    database = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if (entry / "comm").read_text().strip().startswith("postgres"):
                database += sum(times(entry.name))
        except OSError:
            continue  # a backend that ended meanwhile
    children = os.times()
    return {
        "app": sum(sum(times(pid)[:2]) for pid in workers) / tick,
        "database": database / tick,
        "load": children.children_user + children.children_system,
    }


def locust(
    phase: str, users: list[str], count: int, seconds: int, think: float, first: int, host: str
) -> dict[str, dict[str, float]]:
    env = {
        **os.environ,
        "LOAD_POOL": str(OUT / "pool.json"),
        "LOAD_ACKS": str(OUT / "acks.jsonl"),
        "LOAD_THINK": str(think),
        "LOAD_FIRST": str(first),
    }
    prefix = OUT / phase
    command = [
        str(BIN / "locust"),
        "-f",
        str(ROOT / "loadtest" / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--host",
        host,
        "-u",
        str(count),
        # Users arrive over ten seconds, not all in the same instant (fifty logins at once
        # would measure a burst no deadline day has).
        "-r",
        str(max(1, count // 10)),
        "-t",
        f"{seconds}s",
        "--csv",
        str(prefix),
        "--exit-code-on-error",
        "0",
        *users,
    ]
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        sys.exit(f"locust 失败（{phase}）：\n{done.stderr[-3000:]}")
    rows = {}
    with open(f"{prefix}_stats.csv", newline="") as f:
        for row in csv.DictReader(f):
            rows[row["Name"]] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    failures = Path(f"{prefix}_failures.csv")
    rows["_failures"] = {"text": failures.read_text() if failures.exists() else ""}  # type: ignore[dict-item]
    return rows


def server_times(log: Path, since: int) -> dict[str, list[float]]:
    """The server's own milliseconds per request kind, from gunicorn's access log lines written
    after byte `since` (the format is sme/gunicorn.conf.py's: ... "METHOD path ..." status size
    Nms ...)."""
    kinds: dict[str, list[float]] = {}
    with open(log, encoding="utf-8", errors="replace") as f:
        f.seek(since)
        for line in f:
            match = re.search(r'"(GET|POST) (\S+) [^"]*" (\d{3}) \S+ (\d+)ms', line)
            if not match:
                continue
            method, path, _status, ms = match.groups()
            path = re.sub(r"\?.*", "", path)
            path = re.sub(r"/\d{4}-\d{2}/", "/<月份>/", path)
            path = re.sub(r"/\d+/", "/<id>/", path)
            kinds.setdefault(f"{method} {path}", []).append(float(ms))
    return kinds


def percentile(values: list[float], q: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[int(q) - 1]


def main() -> None:
    parser = argparse.ArgumentParser(description="截止日压力测试（见 docs/benchmarks.md）")
    parser.add_argument("--users", type=int, default=50, help="并发用户数（默认 50）")
    parser.add_argument("--seconds", type=int, default=60, help="每个阶段的秒数（默认 60）")
    parser.add_argument("--think", type=float, default=1.0, help="第 3 阶段的停顿秒数（默认 1）")
    parser.add_argument("--port", type=int, default=8077)
    parser.add_argument("--pool", type=int, default=3000, help="企业账户数（默认 3000）")
    args = parser.parse_args()
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        sys.exit("需要 DATABASE_URL=postgres://…（先用 generate_dataset 生成数据集）")
    OUT.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "DEBUG": "false",
        "SECRET_KEY": os.environ.get("SECRET_KEY", "load-test-only-secret-key"),
        "LOAD_TEST_ENDPOINTS": "true",
        "GUNICORN_BIND": f"127.0.0.1:{args.port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    print(
        manage("prepare_load", "--pool", str(args.pool), "--out", str(OUT / "pool.json"), env=env)
    )
    (OUT / "acks.jsonl").write_text("")
    log = OUT / "access.log"
    log.write_text("")
    # The production settings, but workers are not recycled during the run, so that their memory
    # after it is the memory a run leaves behind.
    server = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "-c",
            "sme/gunicorn.conf.py",
            "--max-requests",
            "0",
            "--access-logfile",
            str(log),
            "--error-logfile",
            str(OUT / "error.log"),
            "sme.wsgi",
        ],
        cwd=ROOT,
        env=env,
    )
    host = f"http://127.0.0.1:{args.port}"
    try:
        wait_ready(f"{host}/accounts/login/")
        workers = len(workers_rss_mb(server.pid))
        print(f"gunicorn：{workers} 个工作进程；每阶段 {args.users} 个并发用户，{args.seconds} 秒")
        half = args.pool // 2
        phases = {}
        marks = {}
        cpu = {}
        for phase, users, think, first in (
            ("ceiling", ["Ceiling"], 0.0, 0),
            ("saturated", ["Clerk", "Administrator"], 0.0, 0),
            ("deadline", ["Clerk", "Administrator"], args.think, half),
        ):
            marks[phase] = log.stat().st_size
            print(f"== {phase} …", flush=True)
            before = cpu_seconds(server.pid)
            phases[phase] = locust(phase, users, args.users, args.seconds, think, first, host)
            after = cpu_seconds(server.pid)
            cpu[phase] = {k: after[k] - before[k] for k in after}
        times = server_times(log, marks["deadline"])
        rss = workers_rss_mb(server.pid)
        check = json.loads(
            manage(
                "check_load", str(OUT / "acks.jsonl"), "--pool", str(OUT / "pool.json"), env=env
            ).splitlines()[-1]
        )
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=60)
    report(args, phases, times, rss, check, cpu)


def report(args, phases, times, rss, check, cpu) -> None:  # type: ignore[no-untyped-def]
    lines = []

    def say(text: str = "") -> None:
        print(text)
        lines.append(text)

    ceiling = phases["ceiling"]["Aggregated"]["rps"]
    saturated = phases["saturated"]["Aggregated"]
    submits = phases["saturated"].get("submit", {"count": 0})["count"]
    say(f"## 截止日压力测试：{args.users} 个并发用户，每阶段 {args.seconds} 秒")
    say()
    say("| 阶段 | 请求/秒 | 失败 | p50 ms | p95 ms | p99 ms |")
    say("|---|---:|---:|---:|---:|---:|")
    for phase, rows in phases.items():
        a = rows["Aggregated"]
        say(
            f"| {phase} | {a['rps']:.1f} | {a['failures']:.0f} | {a['p50']:.0f} | "
            f"{a['p95']:.0f} | {a['p99']:.0f} |"
        )
    say()
    ratio = saturated["rps"] / ceiling if ceiling else 0
    say(
        f"上限（最小的已登录写一行请求）：{ceiling:.1f} 请求/秒；满载填报：{saturated['rps']:.1f} "
        f"请求/秒（完整上报 {submits / args.seconds:.2f} 次/秒）；比值 {ratio:.2f}（目标 ≥ 0.5）"
    )
    say()
    say("各阶段 CPU 秒数（应用工作进程 / PostgreSQL / 压力发生器）与每个请求的 CPU 毫秒：")
    say()
    say("| 阶段 | 应用 s | 数据库 s | 压力发生器 s | 应用 ms/请求 | 数据库 ms/请求 |")
    say("|---|---:|---:|---:|---:|---:|")
    for phase, used in cpu.items():
        count = phases[phase]["Aggregated"]["count"] or 1
        say(
            f"| {phase} | {used['app']:.1f} | {used['database']:.1f} | {used['load']:.1f} | "
            f"{used['app'] * 1000 / count:.1f} | {used['database'] * 1000 / count:.1f} |"
        )
    say()
    say(f"### 第 3 阶段（每个用户两次请求之间停顿 {args.think} 秒）各类请求，客户端测得")
    say()
    say("| 请求 | 次数 | 失败 | p50 ms | p95 ms | p99 ms |")
    say("|---|---:|---:|---:|---:|---:|")
    for name, r in sorted(phases["deadline"].items()):
        if name.startswith("_") or name == "Aggregated":
            continue
        say(
            f"| {name} | {r['count']:.0f} | {r['failures']:.0f} | {r['p50']:.0f} | "
            f"{r['p95']:.0f} | {r['p99']:.0f} |"
        )
    saves = [phases["deadline"][n]["p95"] for n in STEP_SAVES if n in phases["deadline"]]
    say()
    say(f"步骤保存的 p95（最慢的一步）：{max(saves) if saves else 0:.0f} ms（目标 < 150 ms）")
    say()
    say("### 第 3 阶段服务器端用时（gunicorn 访问日志）")
    say()
    say("| 请求 | 次数 | p50 ms | p95 ms |")
    say("|---|---:|---:|---:|")
    for kind, values in sorted(times.items(), key=lambda kv: -len(kv[1])):
        say(
            f"| {kind} | {len(values)} | {percentile(values, 50):.0f} | "
            f"{percentile(values, 95):.0f} |"
        )
    say()
    failures = sum(r["Aggregated"]["failures"] for r in phases.values())
    say(f"错误：{failures:.0f}；核对：{json.dumps(check, ensure_ascii=False)}")
    say(
        f"工作进程内存（运行后 RSS）：{', '.join(f'{m:.0f}' for m in rss)} MB；"
        f"最大 {max(rss):.0f} MB（目标 < 200 MB）"
    )
    for phase, rows in phases.items():
        text = rows["_failures"]["text"]  # type: ignore[index]
        if text.count("\n") > 1:
            say(f"\n{phase} 的失败：\n{text}")
    (OUT / "summary.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
