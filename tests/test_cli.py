"""`alumnibot --help`, every subcommand's help, `--version`, and the demo in the language asked."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.__main__ import main

ROOT = Path(__file__).resolve().parents[1]
SUBCOMMANDS = ("run", "demo", "db", "slack", "discord")


def _help(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


def test_help_speaks_to_the_person_running_it(capsys: pytest.CaptureFixture[str]) -> None:
    out = _help(capsys)
    assert "Composition root" not in out and "SIGTERM" not in out.split("commands:")[0]
    assert "hosts a university alumni group" in out
    assert "local workspace in this terminal" in out
    assert "alumnibot demo --language nb" in out
    for sub in SUBCOMMANDS:
        line = next((x for x in out.splitlines() if x.strip().startswith(sub + " ")), "")
        assert len(line.split(None, 1)[-1]) > 10, f"{sub} has no help line"


@pytest.mark.parametrize("sub", SUBCOMMANDS)
def test_every_subcommand_has_its_own_help(capsys: pytest.CaptureFixture[str], sub: str) -> None:
    out = _help(capsys, sub)
    assert out.startswith(f"usage: alumnibot {sub}")
    description = out.split("\n\n")[1]
    assert len(description) > 40, out  # a sentence saying what it does, not just the usage


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--version"])
    assert exit_.value.code == 0
    assert capsys.readouterr().out.strip() == "alumnibot 0.1.0"


def test_the_demo_plays_in_norwegian_when_asked(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALUMNIBOT_")}
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "demo", "--language", "nb"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert "Opprettet: @student, @alumni, @ansatt" in proc.stdout
    assert "[knapper: Jeg har en kode | Jeg er student" in proc.stdout
    assert "Gratulerer, Mote 2026!" in proc.stdout
    assert "Ferdig: dataene dine er slettet" in proc.stdout


def _make_demo_line(*args: str, lang: str) -> str:
    env = {**os.environ, "LANG": lang}
    out = subprocess.run(
        ["make", "-n", "demo", *args], cwd=ROOT, env=env, capture_output=True, text=True
    ).stdout
    return next(line for line in out.splitlines() if "alumnibot demo" in line).strip()


def test_make_demo_takes_the_language_without_tripping_on_the_locale() -> None:
    # The shell's LANG is a locale: it never picks the demo's language by itself.
    assert _make_demo_line(lang="en_US.UTF-8").endswith("alumnibot demo")
    assert _make_demo_line(lang="nb_NO.UTF-8").endswith("alumnibot demo")
    assert _make_demo_line("DEMO_LANGUAGE=nb", lang="en_US.UTF-8").endswith("--language nb")
    # `make demo LANG=nb` asks for Norwegian, and the demo gets a real UTF-8 locale.
    line = _make_demo_line("LANG=nb", lang="en_US.UTF-8")
    assert line.startswith("LANG=C.UTF-8 ") and line.endswith("--language nb")
