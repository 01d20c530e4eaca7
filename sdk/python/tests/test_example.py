"""examples/member_flow.py runs against the gateway as documented."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

EXAMPLE = Path(__file__).resolve().parents[1] / "examples" / "member_flow.py"
EXAMPLE_TIMEOUT_SECS = 120


def test_member_flow_example(gateway):
    done = subprocess.run(
        [sys.executable, str(EXAMPLE), "--target", gateway], capture_output=True, text=True, timeout=EXAMPLE_TIMEOUT_SECS
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "balances: ada 75.00, bob 25.00" in done.stdout, done.stdout
