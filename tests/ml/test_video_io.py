"""video_io on real clips: decode, H.264 out, audio copied; bad input gets a typed reason."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest

from cheese_ml.fixtures import fixture_path
from cheese_ml.video_clips import write_clip
from cheese_ml.video_io import VideoInputError, probe, read_frames, transcode
from cheese_ml.video_judge import psnr


def audio_packets(path: Path) -> list[bytes]:
    with av.open(str(path)) as container:
        return [bytes(p) for p in container.demux(container.streams.audio[0]) if p.size]


def test_transcode_keeps_every_frame_and_copies_the_audio_packets(tmp_path: Path) -> None:
    source = fixture_path("single_face.mp4")  # 72 frames, 640x360 H.264, MP3 audio
    out = tmp_path / "out.mp4"
    seen: list[tuple[int, int]] = []
    info = transcode(
        source, out, lambda index, rgb: rgb, lambda done, total: seen.append((done, total))
    )
    assert (info.width, info.height, info.frames, info.audio_codec) == (640, 360, 72, "mp3")
    assert seen[-1] == (72, 72) and [d for d, _ in seen] == list(range(1, 73))
    result = probe(out)
    assert (result.video_codec, result.frames, result.audio_codec) == ("h264", 72, "mp3")
    assert abs(result.duration - info.duration) < 0.05
    assert audio_packets(out) == audio_packets(source)  # copied, not re-encoded
    before, after = list(read_frames(source)), list(read_frames(out))
    assert [f.time for f in before] == pytest.approx([f.time for f in after], abs=1e-3)
    assert min(psnr(a.rgb, b.rgb) for a, b in zip(before, after, strict=True)) > 40


def test_render_changes_reach_the_output(tmp_path: Path) -> None:
    out = tmp_path / "grey.mp4"

    def paint(index: int, rgb: np.ndarray) -> np.ndarray:
        painted = rgb.copy()
        painted[:100, :100] = 128
        return painted

    transcode(fixture_path("single_face.mp4"), out, paint)
    for frame in read_frames(out):
        assert abs(float(frame.rgb[10:90, 10:90].mean()) - 128) < 2


def test_webm_vp8_is_decoded(tmp_path: Path) -> None:
    frames = []
    for frame in read_frames(fixture_path("franck.webm")):
        frames.append(frame)
        if len(frames) == 10:
            break
    assert (
        frames[0].rgb.shape == (288, 360, 3)
        and probe(fixture_path("franck.webm")).video_codec == "vp8"
    )


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (lambda d: d / "empty.mp4", "empty"),
        (lambda d: d / "missing.mp4", "empty"),
        (lambda d: d / "noise.mp4", "corrupt"),
        (lambda d: d / "photo.mp4", "unsupported_codec"),
        (lambda d: d / "audio.m4a", "no_video_stream"),
        (lambda d: d / "huge.mp4", "too_large"),
        (lambda d: d / "cut.mp4", "truncated"),
        (lambda d: d / "cut-faststart.mp4", "truncated"),
    ],
    ids=[
        "zero-length",
        "missing",
        "noise",
        "jpeg-renamed",
        "audio-only",
        "huge",
        "truncated-index-last",
        "truncated-index-first",
    ],
)
def test_bad_videos_raise_a_typed_error(tmp_path: Path, make, code: str) -> None:
    (tmp_path / "empty.mp4").write_bytes(b"")
    (tmp_path / "noise.mp4").write_bytes(np.random.default_rng(1).bytes(200_000))
    (tmp_path / "photo.mp4").write_bytes(fixture_path("obama.jpg").read_bytes())
    with av.open(str(tmp_path / "audio.m4a"), "w", format="mp4") as output:
        stream = output.add_stream("aac", rate=44100)
        stream.layout = "mono"
        for start in range(0, 44100, 1024):
            frame = av.AudioFrame.from_ndarray(
                np.zeros((1, 1024), np.float32), format="fltp", layout="mono"
            )
            frame.sample_rate, frame.pts, frame.time_base = 44100, start, Fraction(1, 44100)
            for packet in stream.encode(frame):
                output.mux(packet)
        for packet in stream.encode(None):
            output.mux(packet)
    write_clip(tmp_path / "huge.mp4", [np.zeros((64, 4352, 3), np.uint8)] * 2, fps=10, tone=False)
    whole = fixture_path("single_face.mp4").read_bytes()  # its index ('moov') comes last
    (tmp_path / "cut.mp4").write_bytes(whole[: len(whole) // 2])
    transcode(fixture_path("single_face.mp4"), tmp_path / "faststart.mp4", lambda i, rgb: rgb)
    whole = (tmp_path / "faststart.mp4").read_bytes()  # our output: index first
    (tmp_path / "cut-faststart.mp4").write_bytes(whole[: len(whole) // 2])
    path = make(tmp_path)
    with pytest.raises(VideoInputError) as caught:
        probe(path)
        for _ in read_frames(path):
            pass
    assert caught.value.code == code
    assert path.name in str(caught.value)
    with pytest.raises(VideoInputError):
        transcode(path, tmp_path / "out.mp4", lambda index, rgb: rgb)
