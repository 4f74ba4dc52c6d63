"""Settings as a teacher's machine and a host give them: the real `alumnibot` in a subprocess.

A Ubuntu or Debian desktop session exports LANGUAGE=nb_NO:nb (gettext's variable); the bot's
own settings are ALUMNIBOT_*, so it starts. A bad value is one line naming the variable and
exit code 1, before anything starts: no traceback, no flood of errors later.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.settings import Settings, env_name
from tests.process_harness import BotProcess, clean_env

# What a GNOME session on a Norwegian Ubuntu desktop exports (besides PATH and HOME).
DESKTOP = {
    "LANGUAGE": "nb_NO:nb",
    "LANG": "nb_NO.UTF-8",
    "LC_ALL": "nb_NO.UTF-8",
    "TIMEZONE": "",
    "LOG_LEVEL": "verbose",
    "DATA_DIR": "/nonexistent/not-ours",
}


async def run(tmp_path: Path, env: dict[str, str], *lines: str, args: tuple[str, ...] = ("run",)):  # type: ignore[no-untyped-def]
    """Start alumnibot, type lines, close stdin; (exit code, stdout, stderr)."""
    bot = await BotProcess.start(list(args), env, cwd=tmp_path)
    try:
        bot.type(*lines)
        assert bot.proc.stdin is not None
        bot.proc.stdin.close()
        code = await bot.wait(within=60)
    finally:
        await bot.kill()
    return code, bot.out, bot.err


async def test_a_desktop_session_starts_the_bot_in_the_groups_default_language(
    tmp_path: Path,
) -> None:
    env = clean_env(tmp_path, **DESKTOP)
    code, out, err = await run(tmp_path, env, "/alumni help")
    assert code == 0, err
    assert "Commands you can use:" in out  # English: LANGUAGE=nb_NO:nb is not our setting
    assert "Traceback" not in err
    assert (tmp_path / "data" / "local_workspace.json").is_file()  # ALUMNIBOT_DATA_DIR


async def test_alumnibot_language_chooses_norwegian(tmp_path: Path) -> None:
    env = clean_env(tmp_path, **DESKTOP, ALUMNIBOT_LANGUAGE="nb")
    code, out, err = await run(tmp_path, env, "/alumni help")
    assert code == 0, err
    assert "Kommandoer du kan bruke:" in out


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("ALUMNIBOT_TIMEZONE", "Europe/Olso", "ALUMNIBOT_TIMEZONE: 'Europe/Olso' is not a tim"),
        (
            "DATABASE_URL",
            "mysql://kari:hemmelig@db.example.org/alumni",
            "DATABASE_URL: mysql:// is not supported; use postgresql+asyncpg://",
        ),
        ("ALUMNIBOT_LANGUAGE", "fr", "ALUMNIBOT_LANGUAGE: 'fr' is invalid: Input should be 'en'"),
        (
            "DATABASE_URL",
            "postgresql+asyncpg://kari:hemmelig@db.example.org/alumni?sslmode=require",
            "DATABASE_URL: sslmode= is libpq's; asyncpg takes ssl= (e.g. ?ssl=require)",
        ),
        ("ALUMNIBOT_LOG_LEVEL", "loud", "ALUMNIBOT_LOG_LEVEL: 'loud' is not a log level"),
        ("PORT", "http", "PORT: 'http' is invalid"),
    ],
)
async def test_an_invalid_setting_is_one_line_and_exit_1(
    tmp_path: Path, variable: str, value: str, expected: str
) -> None:
    env = clean_env(tmp_path, **DESKTOP, **{variable: value})
    code, out, err = await run(tmp_path, env, "/alumni help")
    assert code == 1
    assert err.splitlines() == [err.strip()] and err.startswith(f"alumnibot: {expected}"), err
    assert "hemmelig" not in err  # a password in a URL is never echoed
    assert out == ""  # nothing started
    assert not (tmp_path / "bot.db").exists()


async def test_dotenv_is_read_and_an_old_name_in_it_is_pointed_out(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("TIMEZONE=America/New_York\nALUMNIBOT_LANGUAGE=nb\n")
    code, out, err = await run(tmp_path, clean_env(tmp_path), "/alumni help")
    assert code == 0
    assert "Kommandoer du kan bruke:" in out
    assert err.strip() == "alumnibot: .env sets TIMEZONE, which is now ALUMNIBOT_TIMEZONE"
    (tmp_path / ".env").write_text("ALUMNIBOT_TIMEZONE=Oslo\n")
    code, _, err = await run(tmp_path, clean_env(tmp_path), "/alumni help")
    assert code == 1 and err.startswith("alumnibot: ALUMNIBOT_TIMEZONE: 'Oslo' is not a timezone")


def test_platform_settings_keep_their_names_and_empty_secrets_are_unset(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    for name, value in {
        "DISCORD_TOKEN": "  ",  # an empty line in .env, or a stray space
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_SIGNING_SECRET": "",
        "SLACK_APP_TOKEN": " xapp-1 ",
        "DATABASE_URL": "postgresql+asyncpg://bot@127.0.0.1/alumni",
        "PORT": "8080",
        "ALUMNIBOT_TIMEZONE": "America/New_York",
        "TIMEZONE": "Mars/Olympus",  # not ours
    }.items():
        monkeypatch.setenv(name, value)
    s = Settings(_env_file=None)  # type: ignore[call-arg]
    assert s.discord.token is None and s.platform == "slack"
    assert s.slack.signing_secret is None
    assert s.slack.app_token is not None and s.slack.app_token.get_secret_value() == "xapp-1"
    assert s.slack.socket_mode and s.role == "worker"
    assert s.web.port == 8080 and s.timezone == "America/New_York"
    assert s.database_url.endswith("/alumni")
    assert "xoxb-1" not in repr(s) and "xoxb-1" not in repr(s.slack)
    assert s.core().default_timezone == "America/New_York"


def test_every_setting_is_in_env_example_and_readme_and_the_example_parses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).resolve().parent.parent
    example = (root / ".env.example").read_text()
    readme = (root / "README.md").read_text()
    for field in Settings.model_fields:
        assert f"{env_name(field)}=" in example, field
        assert f"`{env_name(field)}`" in readme, field
    # Uncommented as it stands (the first DATABASE_URL line), it starts the local workspace.
    lines = [line.removeprefix("# ") for line in example.splitlines()]
    dotenv = tmp_path / ".env"
    dotenv.write_text("\n".join(line for line in lines if "postgresql" not in line))
    for field in Settings.model_fields:
        monkeypatch.delenv(env_name(field), raising=False)
    s = Settings(_env_file=dotenv)  # type: ignore[call-arg]
    assert s.platform == "local" and s.port is None and s.timezone == "Europe/Oslo"


def test_a_hosts_postgres_url_is_read_with_the_bots_driver() -> None:
    from bot.settings import Settings

    heroku = Settings(database_url="postgres://u:p@db.example.org:5432/d?sslmode=require")
    assert heroku.database_url == "postgresql+asyncpg://u:p@db.example.org:5432/d?ssl=require"
    plain = Settings(database_url="postgresql://u@db/d")
    assert plain.database_url == "postgresql+asyncpg://u@db/d"


async def test_the_database_lives_in_the_data_dir_so_a_new_folder_is_a_new_group(
    tmp_path: Path,
) -> None:
    """Without DATABASE_URL, ALUMNIBOT_DATA_DIR moves the SQLite file with the workspace's
    state: a second folder starts from nothing instead of meeting the first one's records."""
    line = "/alumni cohort create program:Fashion year:2026"
    for folder in ("one", "two"):
        env = {"ALUMNIBOT_DATA_DIR": str(tmp_path / folder)}
        code, out, err = await run(tmp_path, env, "/alumni setup", line)
        assert code == 0 and "Created the cohort Fashion 2026" in out, (out, err)
        assert (tmp_path / folder / "alumnibot.db").is_file()
    s = Settings(_env_file=None, data_dir=tmp_path / "x")  # type: ignore[call-arg]
    assert s.database_url == f"sqlite+aiosqlite:///{tmp_path / 'x' / 'alumnibot.db'}"
