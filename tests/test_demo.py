"""`alumnibot demo` plays every feature's script in one story: each part still works there."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


def test_the_demo_tells_the_whole_semester(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "demo"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "Traceback" not in out and "Something went wrong" not in out
    # Setup: channels once, a deleted one back, a student refused.
    assert "Created: #articles" in out
    assert "Only staff can run `/alumni setup`" in out
    # Onboarding: roster match, code, approval, graduation.
    assert "You are on the roster of Fashion 2026" in out
    assert "per got the role student (approved by owner)" in out
    assert "Congratulations, Fashion 2026!" in out
    # Weekly questions: posted, answered in the thread, recapped.
    assert "A week of answers: 3 replies" in out
    # Posting: a job card, closed by its author; stats with a chart.
    assert "**Job: Junior pattern cutter** Posted by ingrid" in out
    assert "[FILLED] Job: Junior pattern cutter" in out
    assert "[image:" in out
    # Knowing each other and privacy: a pair, an export, an erasure.
    assert "Did you meet your coffee pair?" in out
    assert "Done: your data is erased" in out
