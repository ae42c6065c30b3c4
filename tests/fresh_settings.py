"""sme.settings imported in a new interpreter with a chosen environment: the settings module reads
the environment once, at import, so that is the only honest way to see what a given environment
makes of it. Shared by the tests of the settings (env parsing, production, replica, storage,
security headers, logs)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sme.env import ImproperlyConfiguredEnv

ROOT = Path(__file__).resolve().parent.parent
# Each name is the settings module's own value, or Django's default where the module sets none.
CODE = """
import json, sys
import sme.settings as s
from django.conf import global_settings as d
print(json.dumps({n: getattr(s, n, getattr(d, n, None)) for n in sys.argv[1:]}, default=str))
"""


def fresh_settings(
    *names: str,
    env: Mapping[str, str] | None = None,
    without: Iterable[str] = (),
    inherit: bool = True,
) -> dict[str, Any]:
    """The named settings under `env`, laid over this process's environment (less the variables
    in `without`, so that the surrounding shell cannot leak into the test) unless `inherit` is
    False. An environment the settings refuse raises ImproperlyConfiguredEnv with their message."""
    dropped = set(without)
    base = {k: v for k, v in os.environ.items() if k not in dropped} if inherit else {}
    done = subprocess.run(
        [sys.executable, "-c", CODE, *names],
        env={**base, "SECRET_KEY": "x", **(env or {})},
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode:
        raise ImproperlyConfiguredEnv(done.stderr.strip().splitlines()[-1])
    return json.loads(done.stdout)
