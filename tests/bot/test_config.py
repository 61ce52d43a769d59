import pytest

from bot import config
from bot.errors import ConfigError


def write(tmp_path, text):
    path = tmp_path / "hotpapers.toml"
    path.write_text(text)
    return path


def test_no_file_gives_defaults():
    cfg = config.load(env={})
    assert cfg.schedule.timezone == "UTC"
    assert cfg.sources.arxiv.min_interval == 3.0
    assert cfg.path is None


def test_example_config_loads_and_matches_defaults():
    from pathlib import Path

    example = Path(__file__).resolve().parents[2] / "config.example.toml"
    cfg = config.load(example, env={})
    assert cfg.sources.arxiv.categories == config.ArxivConfig().categories


def test_values_are_read_and_typed(tmp_path):
    path = write(
        tmp_path,
        '[schedule]\ntimezone = "Europe/Paris"\nwindow_days = 7\n'
        "[ranking]\nmin_score = 50\n[ranking.weights]\nhackernews = 3\n"
        '[sources.arxiv]\ncategories = ["cs.CV"]\n',
    )
    cfg = config.load(path, env={})
    assert cfg.schedule.timezone == "Europe/Paris"
    assert cfg.schedule.window_days == 7
    assert cfg.ranking.min_score == 50.0
    assert cfg.ranking.weights["hackernews"] == 3.0
    assert cfg.ranking.weights["twitter"] == 1.0  # defaults kept for unnamed sources
    assert cfg.sources.arxiv.categories == ["cs.CV"]


def test_env_names_the_file(tmp_path):
    path = write(tmp_path, "[schedule]\nwindow_days = 3\n")
    assert config.load(env={"HOTPAPERS_CONFIG": str(path)}).schedule.window_days == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[schedule]\nwindow_days = 'seven'\n", "'schedule.window_days' must be an integer"),
        ("[schedule]\nwindow_dayz = 7\n", "unknown key 'schedule.window_dayz'"),
        ("[nope]\nx = 1\n", "unknown key 'nope'"),
        ("schedule = 3\n", "'schedule' must be a table"),
        ('[sources.arxiv]\ncategories = "cs.CV"\n', "'sources.arxiv.categories' must be a list"),
        ("[sources.arxiv]\nenabled = 1\n", "'sources.arxiv.enabled' must be true or false"),
        ('[schedule]\ntimezone = "Mars/Olympus"\n', "'schedule.timezone' must be an IANA"),
        ('[schedule]\nrank_time = "9am"\n', "'schedule.rank_time' must be HH:MM"),
        ("[schedule]\nwindow_days = 0\n", "'schedule.window_days' must be at least 1"),
        ("[schedule\n", "not valid TOML"),
    ],
)
def test_errors_name_file_and_key_on_one_line(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        config.load(path, env={})
    message = str(info.value)
    assert expected in message
    assert str(path) in message
    assert "\n" not in message


def test_missing_file_is_named(tmp_path):
    with pytest.raises(ConfigError, match="no such config file"):
        config.load(tmp_path / "absent.toml", env={})


def test_secrets_come_from_env_and_never_show():
    cfg = config.load(
        env={"HOTPAPERS_DISCORD_TOKEN": "tok-123", "HOTPAPERS_X_BEARER_TOKEN": "bear-456"}
    )
    assert cfg.secrets.discord_token == "tok-123"
    assert "tok-123" not in repr(cfg)
    assert "bear-456" not in repr(cfg)
    assert "discord_token=set" in repr(cfg.secrets)
