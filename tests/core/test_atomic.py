"""Files written whole or not at all (escalate.atomic): exports, settings and caches share it."""

from __future__ import annotations

import os

import pytest

from escalate import atomic, settings
from escalate.errors import ConfigError


def test_a_file_is_replaced_whole(tmp_path):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")
    atomic.write_bytes(target, b"new and longer")
    assert target.read_bytes() == b"new and longer"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_a_failed_rename_leaves_the_file_as_it_was_and_no_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "f.txt"
    target.write_bytes(b"old")

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(OSError, match="No space"):
        atomic.write_bytes(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in tmp_path.iterdir()] == ["f.txt"]


def test_settings_that_cannot_be_saved_are_named_and_the_old_ones_kept(tmp_path, monkeypatch):
    path = tmp_path / "settings.toml"
    first = settings.Settings(name="Alex Example", role="DSL")
    settings.save(first, path)
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError(13, "Permission denied")

    monkeypatch.setattr(os, "replace", refuse)
    with pytest.raises(ConfigError, match="cannot save settings"):
        settings.save(first._replace(name="Someone Else"), path)
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["settings.toml"]


def test_a_temporary_file_left_by_a_killed_write_is_removed_by_the_next_one(tmp_path):
    import os
    import time

    from escalate import atomic

    target = tmp_path / "report [1].html"
    stale = tmp_path / ".report [1].html.4242.tmp"  # a process killed mid-export an hour and more ago
    stale.write_bytes(b"half a file")
    old = time.time() - atomic.STALE_AFTER - 60
    os.utime(stale, (old, old))
    running = tmp_path / ".report [1].html.4343.tmp"  # another process's write, still going on
    running.write_bytes(b"being written")
    other = tmp_path / ".notes.txt.4242.tmp"  # another file's, not ours to judge here
    other.write_bytes(b"x")
    os.utime(other, (old, old))
    atomic.write_bytes(target, b"whole")
    assert target.read_bytes() == b"whole"
    assert not stale.exists() and running.exists() and other.exists()
