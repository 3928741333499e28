"""The Redis cache of one board, against a real redis-server."""

from __future__ import annotations

import json
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from boardkit import write_config

from homeboard.config import load_config
from homeboard.model import Current, Snapshot, WeatherData
from homeboard.store import RECENT_MAX, PushRecord, RefreshRecord, Store

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2026, 11, 25, 9, 20, tzinfo=LA)


def weather(temperature: float, fetched_at: datetime) -> Snapshot:
    return Snapshot(
        name="weather",
        kind="weather",
        data=WeatherData(current=Current(temperature=temperature, category="clear")),
        fetched_at=fetched_at,
        changed_at=fetched_at,
        attempted_at=fetched_at,
    )


@pytest.fixture
def store(redis_server) -> Store:  # type: ignore[no-untyped-def]
    return Store(redis_server.client(), "hall")


def test_snapshots_round_trip_as_json(store: Store) -> None:
    store.save_snapshots({"weather": weather(11.5, NOW)})
    raw = store.client.hget("homeboard:hall:snapshots", "weather")
    assert json.loads(raw)["data"]["current"]["temperature"] == 11.5  # JSON, readable
    got = store.load_snapshots()
    assert got["weather"].data == weather(11.5, NOW).data
    assert got["weather"].fetched_at == NOW


def test_a_malformed_snapshot_is_ignored_not_fatal(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    store.save_snapshots({"weather": weather(11.5, NOW)})
    store.client.hset("homeboard:hall:snapshots", "calendar:Family", b"{not json")
    store.client.hset("homeboard:hall:snapshots", "special", json.dumps({"kind": "special"}))
    got = store.load_snapshots()
    assert set(got) == {"weather"}
    assert "unreadable" in caplog.text


def test_sources_no_longer_configured_are_forgotten(store: Store) -> None:
    store.save_snapshots({"weather": weather(1, NOW), "old": weather(2, NOW)})
    store.save_snapshots({}, keep=["weather"])
    assert set(store.client.hkeys("homeboard:hall:snapshots")) == {b"weather"}


def test_every_key_is_under_the_board_prefix(store: Store) -> None:
    store.save_snapshots({"weather": weather(1, NOW)})
    store.begin_refresh(NOW, trigger="manual", ttl=timedelta(seconds=30))
    store.end_refresh(RefreshRecord(NOW, NOW, "pushed", sha256="ab"), push=PushRecord("ab", NOW))
    store.set_next_run(NOW + timedelta(minutes=15), now=NOW)
    store.incr("expired")
    lock = store.lock(timedelta(seconds=5))
    assert lock.acquire(blocking=False)
    keys = {k.decode() for k in store.client.keys("*")}
    assert keys and all(k.startswith("homeboard:hall:") for k in keys), keys
    # A second board on the same Redis sees none of it.
    other = Store(store.client, "kitchen")
    assert other.load_snapshots() == {} and other.counters()["started"] == 0
    assert other.lock(timedelta(seconds=5)).acquire(blocking=False)


def test_the_lock_is_a_token_lock_released_only_by_its_owner(store: Store) -> None:
    first = store.lock(timedelta(seconds=1))
    assert first.acquire(blocking=False)
    assert not store.lock(timedelta(seconds=1)).acquire(blocking=False)
    time.sleep(1.1)  # the first holder was "killed": its lock expires by itself
    second = store.lock(timedelta(seconds=5))
    assert second.acquire(blocking=False)
    from redis.exceptions import LockNotOwnedError

    with pytest.raises(LockNotOwnedError):
        first.release()  # a late release never frees someone else's lock
    assert store.lock_holder_ttl() is not None
    second.release()
    assert store.lock_holder_ttl() is None


def test_counters_and_recent_history(store: Store) -> None:
    outcomes = ["pushed", "unchanged", "skipped-locked", "failed", "unchanged"]
    for i, outcome in enumerate(outcomes):
        start = NOW + timedelta(minutes=15 * i)
        if outcome != "skipped-locked":
            store.begin_refresh(start, trigger="schedule", ttl=timedelta(minutes=10))
        store.end_refresh(RefreshRecord(start, start + timedelta(seconds=3), outcome))  # type: ignore[arg-type]
    assert store.counters() == {
        "started": 4,
        "completed": 3,
        "skipped_locked": 1,
        "expired": 0,
        "pushes": 1,
        "unchanged": 2,
    }
    recent = store.recent()
    assert [r["outcome"] for r in recent] == list(reversed(outcomes))
    assert recent[0]["started_at"] == (NOW + timedelta(minutes=60)).isoformat()
    assert recent[0]["ended_at"] == (NOW + timedelta(minutes=60, seconds=3)).isoformat()
    assert store.running() is None


def test_recent_keeps_the_last_twenty(store: Store) -> None:
    for i in range(RECENT_MAX + 7):
        start = NOW + timedelta(seconds=i)
        store.end_refresh(RefreshRecord(start, start, "unchanged"))
    recent = store.recent()
    assert len(recent) == RECENT_MAX
    assert recent[-1]["started_at"] == (NOW + timedelta(seconds=7)).isoformat()
    assert store.client.llen("homeboard:hall:recent") == RECENT_MAX


def test_status_document_has_the_documented_keys(store: Store, tmp_path: Path) -> None:
    config = load_config(
        write_config(
            tmp_path / "c.yaml",
            redis_url="redis://127.0.0.1:6379/0",
            weather_url="http://x.invalid",
            output_dir=tmp_path,
            board="hall",
            ics_url="file:///dev/null",
            max_age="1h",
        )
    )
    store.save_snapshots({"weather": weather(11, NOW - timedelta(hours=2))})
    store.end_refresh(RefreshRecord(NOW, NOW, "pushed", sha256="cd"), push=PushRecord("cd", NOW))
    doc = store.status(config, NOW)
    json.dumps(doc)  # all JSON
    assert {"counters", "recent", "last_push", "sources"} <= set(doc)
    assert set(doc["counters"]) == {
        "started",
        "completed",
        "skipped_locked",
        "expired",
        "pushes",
        "unchanged",
    }
    assert {"started_at", "ended_at", "outcome"} <= set(doc["recent"][0])
    assert doc["last_push"] == {"sha256": "cd", "time": NOW.isoformat()}
    assert doc["sources"]["weather"]["status"] == "stale"  # 2 h old, max_age 1 h
    assert doc["sources"]["weather"]["age_seconds"] == pytest.approx(7200)
    assert doc["sources"]["Family"] == {
        "fetched_at": None,
        "status": "unavailable",
        "last_error": None,
        "age_seconds": None,
    }
    assert doc["next_run"] is None  # no scheduler running


# --------------------------------------------------------------------------- the disk copy


def test_the_disk_copy_is_json_replaced_atomically_and_read_back(tmp_path: Path) -> None:
    from homeboard.diskstate import DiskState

    disk = DiskState(tmp_path / "state", "hall")
    assert disk.save_snapshots({"weather": weather(11.5, NOW)})
    folder = tmp_path / "state" / "hall"
    raw = json.loads((folder / "snapshots.json").read_text(encoding="utf-8"))
    assert raw["snapshots"]["weather"]["data"]["current"]["temperature"] == 11.5
    assert sorted(p.name for p in folder.iterdir()) == ["snapshots.json"]  # no temp left
    again = DiskState(tmp_path / "state", "hall")  # another process
    assert again.load_snapshots()["weather"].data.current.temperature == 11.5  # type: ignore[union-attr]
    push = PushRecord(sha256="ab" * 32, at=NOW, display="mock")
    assert disk.save_push(push)
    assert again.last_push() == push


def test_an_unwritable_state_dir_is_said_once_and_never_stops_a_refresh(
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    from homeboard.diskstate import DiskState

    (tmp_path / "file").write_text("not a folder")
    disk = DiskState(tmp_path / "file", "hall")
    assert not disk.save_snapshots({"weather": weather(1.0, NOW)})
    assert not disk.save_snapshots({"weather": weather(2.0, NOW)})
    assert caplog.text.count("cannot write snapshots.json") == 1
    assert disk.load_snapshots() == {}
    with disk.lock() as acquired:
        assert acquired  # the Redis lock alone keeps refreshes apart then


def test_newer_data_on_disk_win_over_an_old_redis_dump() -> None:
    from homeboard.diskstate import newest_snapshots

    old = weather(5.0, NOW - timedelta(hours=6))  # Redis came back from an old dump
    new = weather(11.0, NOW - timedelta(minutes=15))
    assert newest_snapshots({"weather": old}, {"weather": new})["weather"] is new
    assert newest_snapshots({"weather": new}, {"weather": old})["weather"] is new
    # A failed attempt since (recorded with no data, the cache being empty) keeps its
    # error with the good data.
    failed = Snapshot(
        name="weather", kind="weather", data=None, last_error="offline", attempted_at=NOW
    )
    merged = newest_snapshots({"weather": failed}, {"weather": new})["weather"]
    assert merged.data == new.data and merged.fetched_at == new.fetched_at
    assert merged.last_error == "offline" and merged.attempted_at == NOW


def test_the_file_lock_keeps_two_holders_apart(tmp_path: Path) -> None:
    from homeboard.diskstate import DiskState

    first = DiskState(tmp_path, "hall")
    second = DiskState(tmp_path, "hall")
    with first.lock() as one:
        assert one
        with second.lock() as two:
            assert not two
    with second.lock() as two:
        assert two  # released with the first holder
