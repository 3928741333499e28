"""The README stays true: its config reference and its quick-start commands."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_config_reference_matches_the_schema() -> None:
    generated = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "config_reference.py")],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    readme = (ROOT / "README.md").read_text()
    assert generated in readme, (
        "README config reference is out of date: run scripts/config_reference.py --write"
    )


def test_ci_runs_the_readme_test_command() -> None:
    readme = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```sh\n(.*?)```", readme, flags=re.S)
    test_command = blocks[1].strip()
    assert test_command == "./scripts/test"
    ci = (ROOT / ".ci" / "run").read_text()
    assert test_command in ci.splitlines()
