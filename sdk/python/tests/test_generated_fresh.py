"""The committed generated code is what proto/ gives now (`make sdk` rewrites it)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

GENERATE = Path(__file__).resolve().parents[1] / "tools" / "generate.py"
CHECK_TIMEOUT_SECS = 300


def test_generated_code_is_up_to_date_with_proto():
    done = subprocess.run(
        [sys.executable, str(GENERATE), "--check"], capture_output=True, text=True, timeout=CHECK_TIMEOUT_SECS
    )
    assert done.returncode == 0, done.stderr + done.stdout
