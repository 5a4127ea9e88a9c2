"""functions/video/live_state.py: the engine state a live stream carries between segments,
in the local stack's DynamoDB (moto): ordered by sequence, per stream, redo-safe, erasable;
stored as the worker stores it (``EngineState.live_only().to_dict()``)."""

from __future__ import annotations

import uuid

import pytest

from cheese_ml.tracking import LiveTrack, TrackerState
from cheese_ml.video_anonymise import EngineState, Sample, TrackRecord


@pytest.fixture
def store(backend):  # noqa: ANN001
    from functions.video.live_state import LiveStateStore

    return States(LiveStateStore())


def state(frames_done: int, following: tuple[int, ...], ended: tuple[int, ...] = ()) -> EngineState:
    tracker = TrackerState(
        tracks=[LiveTrack(k, 0, frames_done, (10.0, 10.0, 50.0, 50.0)) for k in following],
        next_id=max((*following, *ended, 0)) + 1,
        last_frame=frames_done,
    )
    tracks = {
        k: TrackRecord(k, 0, frames_done, [Sample(0.9, "person-1", 0.71)])
        for k in (*following, *ended)
    }
    return EngineState(tracker=tracker, tracks=tracks, frames_done=frames_done)


class States:
    """The store as live_worker uses it: EngineState in, EngineState out."""

    def __init__(self, store) -> None:  # noqa: ANN001
        self.store = store

    def save(self, user: str, stream: str, sequence: int, engine: EngineState) -> None:
        self.store.save(user, stream, sequence, engine.live_only().to_dict())

    def latest_before(self, user: str, stream: str, sequence: int) -> EngineState:
        stored = self.store.latest_before(user, stream, sequence)
        return EngineState.from_dict(stored) if stored is not None else EngineState()

    def forget_before(self, user: str, stream: str, sequence: int) -> int:
        return int(self.store.forget_before(user, stream, sequence))

    def erase_user(self, user: str) -> int:
        return int(self.store.erase_user(user))


def test_each_segment_continues_the_last_good_state_before_it(store) -> None:  # noqa: ANN001
    user, stream = str(uuid.uuid4()), str(uuid.uuid4())
    assert store.latest_before(user, stream, 0).frames_done == 0  # the first segment: fresh
    assert store.latest_before(user, stream, 5).frames_done == 0  # nothing stored yet
    store.save(user, stream, 0, state(48, (1,)))
    store.save(user, stream, 2, state(144, (1,)))  # segment 1 failed: it wrote nothing
    assert store.latest_before(user, stream, 1).frames_done == 48
    assert store.latest_before(user, stream, 2).frames_done == 48  # 2 continues 0
    assert store.latest_before(user, stream, 3).frames_done == 144
    # A redo of segment 2 (its database commit failed) finds what it started from again.
    assert store.latest_before(user, stream, 2).frames_done == 48


def test_streams_and_users_do_not_see_each_others_state(store) -> None:  # noqa: ANN001
    user, other_user = str(uuid.uuid4()), str(uuid.uuid4())
    stream, other_stream = str(uuid.uuid4()), str(uuid.uuid4())
    store.save(user, stream, 0, state(48, (1,)))
    assert store.latest_before(user, other_stream, 1).frames_done == 0
    assert store.latest_before(other_user, stream, 1).frames_done == 0


def test_only_followed_tracks_are_carried_and_superseded_states_go(store) -> None:  # noqa: ANN001
    user, stream = str(uuid.uuid4()), str(uuid.uuid4())
    store.save(user, stream, 0, state(48, (1, 2), ended=tuple(range(3, 400))))
    carried = store.latest_before(user, stream, 1)
    assert sorted(carried.tracks) == [1, 2]  # the 397 ended tracks never continue
    assert carried.tracks[1].person_id() == "person-1"
    assert [t.track_id for t in carried.tracker.tracks] == [1, 2]
    store.save(user, stream, 1, state(96, (2,)))
    assert store.forget_before(user, stream, 1) == 1
    assert store.latest_before(user, stream, 1).frames_done == 0  # segment 0's state is gone
    assert store.latest_before(user, stream, 2).frames_done == 96


def test_erasure_removes_every_stream_of_the_user_only(store) -> None:  # noqa: ANN001
    user, other_user = str(uuid.uuid4()), str(uuid.uuid4())
    for number in range(3):
        store.save(user, str(uuid.uuid4()), number, state(48, (1,)))
    kept = str(uuid.uuid4())
    store.save(other_user, kept, 0, state(48, (1,)))
    assert store.erase_user(user) == 3
    assert store.erase_user(user) == 0  # a second delivery finds nothing
    assert store.latest_before(other_user, kept, 1).frames_done == 48
