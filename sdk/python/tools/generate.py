#!/usr/bin/env python3
"""Regenerates the Python SDK's generated code, or checks that the committed
code is what proto/ gives now.

The one source of truth is the repository's buf.gen.yaml: this runs its
plugins whose `out` lies under sdk/python/ (and only those, so the other
languages' tools are not needed here), with its inputs.

    generate.py            rewrite sdk/python/generated in place
    generate.py --check    generate into a temporary directory and compare;
                           exit 1 and name every difference when stale
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[3]
SDK_DIR = "sdk/python/"
BUF = REPO_ROOT / "sdk" / "node_modules" / ".bin" / "buf"
BUF_TIMEOUT_SECS = 300
IGNORED_PARTS = {"__pycache__"}
DIFF_LINES_MAX = 40


def python_template() -> tuple[dict, list[str]]:
    """buf.gen.yaml reduced to the Python SDK's plugins; and their `out` dirs."""
    config = yaml.safe_load((REPO_ROOT / "buf.gen.yaml").read_text())
    plugins = [p for p in config.get("plugins", []) if str(p.get("out", "")).startswith(SDK_DIR)]
    if not plugins:
        raise SystemExit(f"buf.gen.yaml has no plugin whose `out` is under {SDK_DIR}")
    template = {key: value for key, value in config.items() if key != "plugins"}
    template["plugins"] = plugins
    return template, sorted({p["out"] for p in plugins})


def run_buf(template: dict, output_base: Path | None) -> None:
    if not BUF.exists():
        raise SystemExit(f"{BUF.relative_to(REPO_ROOT)} is missing: run `make sdk-tools`")
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", prefix="buf.gen.python.", delete=False) as f:
        yaml.safe_dump(template, f, sort_keys=False)
        template_path = f.name
    try:
        command = [str(BUF), "generate", "--template", template_path]
        if output_base is not None:
            command += ["-o", str(output_base)]
        # The plugin runs with this interpreter's grpcio-tools when buf.gen.yaml names
        # the SDK's virtualenv; PATH gets it too for plugins named without a path.
        env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
        subprocess.run(command, cwd=REPO_ROOT, check=True, env=env, timeout=BUF_TIMEOUT_SECS)
    finally:
        os.unlink(template_path)


def files_under(root: Path) -> dict[str, Path]:
    if not root.exists():
        return {}
    return {
        str(path.relative_to(root)): path
        for path in sorted(root.rglob("*"))
        if path.is_file() and not IGNORED_PARTS.intersection(path.relative_to(root).parts)
        and path.suffix != ".pyc"
    }


def compare(committed_root: Path, fresh_root: Path) -> list[str]:
    committed, fresh = files_under(committed_root), files_under(fresh_root)
    problems = []
    for name in sorted(fresh.keys() - committed.keys()):
        problems.append(f"missing (proto/ gives it now): {name}")
    for name in sorted(committed.keys() - fresh.keys()):
        problems.append(f"extra (proto/ no longer gives it): {name}")
    for name in sorted(committed.keys() & fresh.keys()):
        old, new = committed[name].read_bytes(), fresh[name].read_bytes()
        if old != new:
            diff = list(
                difflib.unified_diff(
                    old.decode(errors="replace").splitlines(),
                    new.decode(errors="replace").splitlines(),
                    f"committed/{name}",
                    f"fresh/{name}",
                    lineterm="",
                    n=1,
                )
            )
            shown = "\n".join(line[:200] for line in diff[:DIFF_LINES_MAX])
            problems.append(f"differs: {name}\n{shown}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="compare instead of rewriting")
    args = parser.parse_args()
    template, outs = python_template()
    if not args.check:
        run_buf(template, None)
        print(f"regenerated {', '.join(outs)}")
        return 0
    with tempfile.TemporaryDirectory(prefix="bank-python-sdk-check-") as tmp:
        run_buf(template, Path(tmp))
        problems = []
        for out in outs:
            problems += compare(REPO_ROOT / out, Path(tmp) / out)
    if problems:
        print("The committed Python SDK is stale against proto/ (run `make sdk`):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        return 1
    print(f"{', '.join(outs)}: up to date with proto/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
