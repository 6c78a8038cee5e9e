"""The persistent compilation cache's folder, and its fallback: a folder that cannot be used never breaks
the app (no cache, one log line)."""

from pathlib import Path

import pytest

from optviz import warmup


@pytest.fixture
def fresh(monkeypatch):
    """As if no cache had been chosen yet in this process (and none will be left chosen)."""
    monkeypatch.setattr(warmup, "_enabled", [])
    monkeypatch.delenv(warmup.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    return monkeypatch


def test_the_folder_defaults_to_the_user_cache(fresh, tmp_path):
    fresh.setenv("HOME", str(tmp_path))
    assert warmup.cache_dir() == tmp_path / ".cache" / "optviz" / "jax"
    fresh.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert warmup.cache_dir() == tmp_path / "xdg" / "optviz" / "jax"


def test_the_environment_chooses_the_folder_or_turns_it_off(fresh, tmp_path):
    fresh.setenv(warmup.CACHE_ENV, str(tmp_path / "jax"))
    assert warmup.cache_dir() == tmp_path / "jax"
    fresh.setenv(warmup.CACHE_ENV, "off")
    assert warmup.cache_dir() is None
    assert warmup.enable_compilation_cache() is None


def test_an_unusable_folder_means_no_cache_and_a_log_line(fresh, tmp_path, caplog):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    fresh.setenv(warmup.CACHE_ENV, str(blocker / "jax"))  # cannot be created, even by root
    import jax

    before = jax.config.jax_compilation_cache_dir
    with caplog.at_level("WARNING", logger=warmup.__name__):
        assert warmup.enable_compilation_cache() is None
    assert "no JAX compilation cache" in caplog.text
    assert jax.config.jax_compilation_cache_dir == before  # JAX left as it was
    assert warmup.enable_compilation_cache(Path(tmp_path)) is None  # the first choice stands
