"""The face tracker and the boxes it paints: identities through motion, gaps, chunk edges."""

from __future__ import annotations

import itertools
import json

from cheese_ml.tracking import FaceTracker, TrackerState, covered_boxes, iou


def box_at(x: float, y: float, size: float = 60.0) -> tuple[float, float, float, float]:
    return (x, y, x + size, y + size)


def test_a_fast_face_keeps_its_track_when_boxes_no_longer_overlap() -> None:
    tracker = FaceTracker()
    # 45 px per frame with a 60 px face: consecutive boxes barely overlap (IoU 0.14),
    # and from the third frame on only the velocity prediction matches them.
    ids = [tracker.update(frame, [box_at(45.0 * frame, 100)])[0] for frame in range(12)]
    assert len(set(ids)) == 1
    assert iou(box_at(0, 0), box_at(45, 0)) < 0.2


def test_two_faces_crossing_keep_their_identities() -> None:
    tracker = FaceTracker()
    tracks: dict[int, list[float]] = {}
    for frame in range(20):
        left_to_right, right_to_left = box_at(20 + 25 * frame, 100), box_at(520 - 25 * frame, 110)
        boxes = [left_to_right, right_to_left] if frame % 2 else [right_to_left, left_to_right]
        for track_id, box in zip(tracker.update(frame, boxes), boxes, strict=True):
            tracks.setdefault(track_id, []).append(box[0])
    assert len(tracks) == 2
    for xs in tracks.values():  # each track moves monotonically one way: no swap at the crossing
        steps = [b - a for a, b in itertools.pairwise(xs)]
        assert all(step > 0 for step in steps) or all(step < 0 for step in steps)


def test_a_face_missed_for_a_few_frames_continues_its_track_and_a_new_face_gets_a_new_one() -> None:
    tracker = FaceTracker(max_age=10)
    first = tracker.update(0, [box_at(100, 100)])[0]
    assert tracker.update(1, [box_at(104, 100)]) == [first]
    assert tracker.update(7, [box_at(128, 100)]) == [first]  # 5 frames missed
    other = tracker.update(8, [box_at(132, 100), box_at(400, 300)])
    assert other[0] == first and other[1] != first
    assert tracker.update(30, [box_at(128, 100)]) != [first]  # too long gone: a new track


def test_state_survives_json_between_chunks() -> None:
    whole = FaceTracker()
    split = FaceTracker()
    ids_whole, ids_split = [], []
    for frame in range(20):
        boxes = [box_at(10 + 20 * frame, 50), box_at(300, 200 + 3 * frame)]
        ids_whole.append(whole.update(frame, boxes))
        if frame == 10:  # the next chunk starts in another process from the saved state
            split = FaceTracker(
                TrackerState.from_dict(json.loads(json.dumps(split.state.to_dict())))
            )
        ids_split.append(split.update(frame, boxes))
    assert ids_whole == ids_split
    assert len({track_id for ids in ids_whole for track_id in ids}) == 2


def test_frames_must_move_forward() -> None:
    tracker = FaceTracker()
    tracker.update(5, [])
    try:
        tracker.update(5, [])
    except ValueError:
        return
    raise AssertionError("a repeated frame index was accepted")


def test_covered_boxes_interpolate_gaps_hold_after_and_start_before() -> None:
    observations = {10: box_at(100, 100), 14: box_at(140, 100), 15: box_at(150, 100)}
    boxes = covered_boxes(observations, 0, 40, hold=5, preroll=3)
    assert sorted(boxes) == list(range(7, 21))  # 3 frames before the first, 5 after the last
    assert boxes[12][0] == 120.0  # halfway between frames 10 and 14
    # after the last detection the box moves on at the last velocity (10 px/frame) and grows
    held = boxes[20]
    centre = (held[0] + held[2]) / 2
    assert abs(centre - (150 + 30 + 50)) < 1e-6 and held[2] - held[0] > 60
    # before the first detection it is extended back along the first velocity
    assert (boxes[7][0] + boxes[7][2]) / 2 < (boxes[10][0] + boxes[10][2]) / 2
    # the segment's frame range clips the result
    assert sorted(covered_boxes(observations, 12, 16, hold=5, preroll=3)) == [12, 13, 14, 15, 16]
