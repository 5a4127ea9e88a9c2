"""Video files in and out with PyAV: probe, decode to RGB, encode H.264 and copy the audio.

    info = probe(path)                                  # VideoInputError on bad input
    for frame in read_frames(path): ...                 # DecodedFrame(index, time, rgb)
    transcode(path, out, render=lambda index, rgb: rgb)  # H.264 + the audio packets copied

Everything runs in one process on the libav* inside the `av` wheel (libx264 for
the video, the audio stream's packets copied without re-encoding). Frames are
turned upright from the stream's rotation metadata before anyone sees them (phone
videos are stored sideways), and the output is written upright without it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import av.error
import numpy as np

from cheese_ml.video import VideoError

# What a phone, a browser's MediaRecorder or a camera app records (mp4, webm, mov).
SUPPORTED_VIDEO_CODECS = frozenset({"h264", "hevc", "vp8", "vp9", "av1", "mpeg4"})
# Audio codecs the MP4 muxer accepts as they are; anything else is re-encoded to AAC.
COPYABLE_AUDIO_CODECS = frozenset({"aac", "mp3", "opus", "alac", "ac3", "eac3", "flac"})
# What HLS players take in MPEG-TS segments as it is (live segments: Opus from WebM is re-encoded).
TS_AUDIO_CODECS = frozenset({"aac", "mp3"})
MAX_SIDE = 4096
MAX_PIXELS = 3840 * 2160
MAX_FPS = 240
# H.264 quality: kept faces must come out untouched (PSNR > 40 dB in their box against
# the decoded input). Re-encoding a clean clip gave a face-box PSNR minimum of 39.6 dB at
# CRF 17, 40.7 at 14 and 41.4 at 12 (files 2.1x larger than at 17); `veryfast` keeps
# the encoder a small part of the time per frame.
X264_OPTIONS = {"crf": "12", "preset": "veryfast", "tune": "psnr"}


class VideoInputError(VideoError):
    """A video that cannot be processed, with a stable `code` and a reason a person can read.

    Codes: `empty`, `corrupt`, `no_video_stream`, `unsupported_codec`,
    `too_large`, `truncated`.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class VideoInfo:
    width: int  # upright (after rotation metadata)
    height: int
    fps: float
    frames: int  # as declared by the container, or estimated from the duration
    duration: float  # seconds
    video_codec: str
    audio_codec: str | None
    rotation: int  # degrees clockwise the stored frames are turned to be upright


@dataclass(frozen=True)
class DecodedFrame:
    index: int
    time: float  # presentation time in seconds
    rgb: np.ndarray  # upright RGB uint8 (H, W, 3)


def _threads() -> int:
    return max(1, int(os.environ.get("CHEESE_ML_THREADS", "1")))


def _open(path: str | Path) -> av.container.InputContainer:
    path = Path(path)
    if not path.is_file():
        raise VideoInputError("empty", f"{path.name} does not exist")
    if path.stat().st_size == 0:
        raise VideoInputError("empty", f"{path.name} is empty (0 bytes)")
    try:
        return av.open(str(path), "r")
    except av.error.FFmpegError as error:
        with path.open("rb") as handle:
            head = handle.read(12)
        if head[4:8] == b"ftyp":  # an MP4/MOV whose index ('moov', written last) is missing
            raise VideoInputError(
                "truncated",
                f"{path.name} is an MP4/MOV file whose end is missing (no 'moov' index: "
                "cut off during upload?)",
            ) from error
        raise VideoInputError(
            "corrupt", f"{path.name} is not a readable video container ({error.strerror})"
        ) from error


def _rotation(container: av.container.InputContainer, stream: av.video.stream.VideoStream) -> int:
    """Clockwise degrees (0/90/180/270) that turn the stored frames upright."""
    try:
        first = next(iter(container.decode(stream)))
    except (StopIteration, av.error.FFmpegError):
        return 0
    finally:
        container.seek(0)
    degrees: int = round(-first.rotation / 90) % 4 * 90
    return degrees


def probe(path: str | Path) -> VideoInfo:
    """Check a video from its headers (and its first frame) before any real work."""
    container = _open(path)
    try:
        return _probe(container, Path(path).name)
    finally:
        container.close()


def _probe(container: av.container.InputContainer, name: str) -> VideoInfo:
    if not container.streams.video:
        raise VideoInputError("no_video_stream", f"{name} has no video stream")
    stream = container.streams.video[0]
    codec = stream.codec.canonical_name
    if codec not in SUPPORTED_VIDEO_CODECS:
        raise VideoInputError(
            "unsupported_codec",
            f"{name} holds {codec} video; expected one of {', '.join(sorted(SUPPORTED_VIDEO_CODECS))}",
        )
    width, height = stream.codec_context.width, stream.codec_context.height
    if width <= 0 or height <= 0:
        raise VideoInputError("corrupt", f"{name} declares no frame size")
    if max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
        raise VideoInputError(
            "too_large",
            f"{name} is {width}x{height}; at most {MAX_SIDE} px a side and "
            f"{MAX_PIXELS:,} pixels (4K UHD) are accepted",
        )
    rate = stream.average_rate or stream.guessed_rate
    fps = float(rate) if rate else 0.0
    if not 0 < fps <= MAX_FPS:
        raise VideoInputError("corrupt", f"{name} declares no usable frame rate ({fps})")
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frames = stream.frames or max(1, math.floor(duration * fps + 0.5))
    stream.codec_context.thread_count = _threads()  # before the first decode opens the codec
    rotation = _rotation(container, stream)
    if rotation in (90, 270):
        width, height = height, width
    audio = container.streams.audio[0].codec.canonical_name if container.streams.audio else None
    return VideoInfo(width, height, fps, frames, duration, codec, audio, rotation)


def _upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    return rgb if rotation == 0 else np.ascontiguousarray(np.rot90(rgb, k=-rotation // 90))


def _decoded(
    container: av.container.InputContainer, info: VideoInfo, name: str
) -> Iterator[tuple[av.VideoFrame, np.ndarray]]:
    return _decoded_with_audio(container, info, name, None, None, None)


def read_frames(path: str | Path) -> Iterator[DecodedFrame]:
    """Every frame in presentation order, upright RGB; VideoInputError on bad input."""
    container = _open(path)
    try:
        info = _probe(container, Path(path).name)
        for index, (frame, rgb) in enumerate(_decoded(container, info, Path(path).name)):
            yield DecodedFrame(index, float(frame.time or 0.0), rgb)
    finally:
        container.close()


def frame_pts(path: str | Path) -> list[int]:
    """Every video frame's presentation timestamp, in order, from the packets (no decoding).

    Cutting a video into chunks by frame needs this: a chunk is the frames whose
    timestamp falls in [start, end), which a worker reaches by seeking, so
    chunks of a long video are read in parallel without decoding what is before.
    """
    container = _open(path)
    try:
        _probe(container, Path(path).name)
        stream = container.streams.video[0]
        stamps = [p.pts for p in container.demux(stream) if p.size and p.pts is not None]
    except av.error.FFmpegError as error:
        raise VideoInputError("corrupt", f"{Path(path).name}: unreadable packets") from error
    finally:
        container.close()
    return sorted(stamps)


def _frames_between(
    container: av.container.InputContainer,
    info: VideoInfo,
    name: str,
    start_pts: int,
    end_pts: int | None,
) -> Iterator[tuple[av.VideoFrame, np.ndarray]]:
    """The frames with start_pts <= pts < end_pts (None: to the end), upright RGB.

    Seeks to the keyframe at or before `start_pts` and decodes from there: the
    frames before the chunk are decoded (a GOP at most) but not converted.
    """
    stream = container.streams.video[0]
    if start_pts > 0:
        container.seek(start_pts, stream=stream, backward=True, any_frame=False)
    count = 0
    try:
        for packet in container.demux(stream):
            for frame in packet.decode():
                if not isinstance(frame, av.VideoFrame) or frame.pts is None:
                    continue
                if frame.pts < start_pts:
                    continue
                if end_pts is not None and frame.pts >= end_pts:
                    return  # frames come out in presentation order: the chunk is over
                count += 1
                yield frame, _upright(frame.to_ndarray(format="rgb24"), info.rotation)
    except av.error.FFmpegError as error:
        raise VideoInputError(
            "corrupt", f"{name}: decoding failed after {count} frames of a chunk ({error.strerror})"
        ) from error
    if count == 0:
        raise VideoInputError("corrupt", f"{name} has no decodable frames in a chunk")


def read_frames_between(
    path: str | Path, start_pts: int, end_pts: int | None, first_index: int = 0
) -> Iterator[DecodedFrame]:
    """The frames of one chunk (`frame_pts` bounds), numbered on from `first_index`."""
    container = _open(path)
    try:
        info = _probe(container, Path(path).name)
        frames = _frames_between(container, info, Path(path).name, start_pts, end_pts)
        for offset, (frame, rgb) in enumerate(frames):
            yield DecodedFrame(first_index + offset, float(frame.time or 0.0), rgb)
    finally:
        container.close()


def _h264_stream(
    output: av.container.OutputContainer, in_video: av.video.stream.VideoStream, info: VideoInfo
) -> av.video.stream.VideoStream:
    out_video = output.add_stream("libx264", rate=Fraction(in_video.average_rate or 30))
    out_video.width, out_video.height, out_video.pix_fmt = (
        info.width & ~1,
        info.height & ~1,
        "yuv420p",
    )
    if in_video.time_base is None:
        raise VideoInputError("corrupt", "the video stream has no time base")
    out_video.time_base = in_video.time_base
    out_video.codec_context.time_base = in_video.time_base
    out_video.options = dict(X264_OPTIONS)
    out_video.codec_context.thread_count = _threads()
    return out_video


def encode_between(
    path: str | Path,
    out_path: str | Path,
    start_pts: int,
    end_pts: int | None,
    render: Callable[[int, np.ndarray], np.ndarray],
    progress: Callable[[int], None] | None = None,
) -> int:
    """One chunk's frames through `render(offset, rgb)` to an H.264 MP4 without audio.

    The frames keep the input's timestamps, so `join_segments` can put the chunks
    back together by copying their packets (and the audio of the original, once).
    Returns the number of frames written.
    """
    name = Path(path).name
    container = _open(path)
    try:
        info = _probe(container, name)
        in_video = container.streams.video[0]
        if in_video.time_base is None:
            raise VideoInputError("corrupt", f"{name} has no time base")
        count = 0
        with av.open(str(out_path), "w", format="mp4") as output:
            out_video = _h264_stream(output, in_video, info)
            width, height = out_video.width, out_video.height
            for frame, rgb in _frames_between(container, info, name, start_pts, end_pts):
                painted = render(count, rgb)[:height, :width]
                new = av.VideoFrame.from_ndarray(np.ascontiguousarray(painted), format="rgb24")
                new.pts, new.time_base = frame.pts, in_video.time_base
                for packet in out_video.encode(new):
                    output.mux(packet)
                count += 1
                if progress is not None:
                    progress(count)
            for packet in out_video.encode(None):
                output.mux(packet)
        return count
    finally:
        container.close()


def join_segments(original: str | Path, segments: list[Path], out_path: str | Path) -> int:
    """The chunks' H.264 segments (`encode_between`, in order) and the original's audio in one MP4.

    Video packets are copied (no re-encoding) and keep their timestamps; the audio
    of the original is copied once (re-encoded to AAC only if MP4 cannot hold it),
    the two interleaved by time. Returns the number of video frames.
    """
    name = Path(original).name
    source = _open(original)
    inputs = [av.open(str(s), "r") for s in segments]
    try:
        info = _probe(source, name)
        in_audio = source.streams.audio[0] if source.streams.audio else None
        copy = in_audio is not None and info.audio_codec in COPYABLE_AUDIO_CODECS
        template = inputs[0].streams.video[0]
        with av.open(str(out_path), "w", format="mp4", options={"movflags": "+faststart"}) as out:
            out_video = out.add_stream_from_template(template)
            out_audio = None
            if in_audio is not None:
                out_audio = (
                    out.add_stream_from_template(in_audio)
                    if copy
                    else out.add_stream("aac", rate=in_audio.codec_context.sample_rate)
                )

            def video_packets() -> Iterator[av.Packet[Any]]:
                last_dts: int | None = None
                for segment in inputs:
                    for packet in segment.demux(segment.streams.video[0]):
                        if not packet.size or packet.dts is None:
                            continue
                        # Each segment's decode timestamps start the encoder's delay
                        # before its first frame; they never go back, but guard it.
                        if last_dts is not None and packet.dts <= last_dts:
                            packet.dts = last_dts + 1
                        last_dts = packet.dts
                        yield packet

            def audio_packets() -> Iterator[av.Packet[Any]]:
                if in_audio is None:
                    return
                for packet in source.demux(in_audio):
                    if packet.size and packet.dts is not None:
                        yield packet

            frames = 0
            pending_video, pending_audio = video_packets(), audio_packets()
            video_next, audio_next = next(pending_video, None), next(pending_audio, None)
            while video_next is not None or audio_next is not None:
                take_video = audio_next is None or (
                    video_next is not None and _seconds(video_next) <= _seconds(audio_next)
                )
                if take_video:
                    assert video_next is not None
                    video_next.stream = out_video
                    out.mux(video_next)
                    frames += 1
                    video_next = next(pending_video, None)
                    continue
                assert audio_next is not None and out_audio is not None
                _mux_audio(out, out_audio, audio_next, copy)
                audio_next = next(pending_audio, None)
            if out_audio is not None and not copy:
                for encoded in out_audio.encode(None):
                    out.mux(encoded)
        return frames
    except av.error.FFmpegError as error:
        raise VideoInputError(
            "corrupt", f"joining the chunks of {name} failed ({error})"
        ) from error
    finally:
        for segment in inputs:
            segment.close()
        source.close()


def _seconds(packet: av.Packet[Any]) -> float:
    return float((packet.dts or 0) * packet.time_base) if packet.time_base else 0.0


def transcode(
    path: str | Path,
    out_path: str | Path,
    render: Callable[[int, np.ndarray], np.ndarray],
    progress: Callable[[int, int], None] | None = None,
    container_format: str = "mp4",
    start_seconds: float = 0.0,
) -> VideoInfo:
    """Decode `path`, pass every upright frame through `render(index, rgb)`, encode H.264.

    The audio stream's packets are copied as they are (re-encoded to AAC only
    when MP4 cannot hold the codec, e.g. Vorbis from WebM); timestamps are the
    input's, so variable frame rates and A/V sync survive. Odd sizes lose their
    last row/column (H.264 4:2:0 needs even sides). `progress(done, total)` is
    called after every frame. ``container_format="mpegts"`` writes an HLS media
    segment instead, its timestamps shifted to start at ``start_seconds`` (where the
    segment sits in its stream: players join segments by their timestamps).
    """
    name = Path(path).name
    container = _open(path)
    try:
        info = _probe(container, name)
        in_video = container.streams.video[0]
        if in_video.time_base is None:
            raise VideoInputError("corrupt", f"{name} has no time base")
        in_audio = container.streams.audio[0] if container.streams.audio else None
        width, height = info.width & ~1, info.height & ~1
        # faststart: the index goes first, so players and browsers can start the
        # result before it has fully downloaded.
        options = (
            {"movflags": "+faststart"}
            if container_format == "mp4"
            else {"output_ts_offset": str(round(start_seconds * 1_000_000))}
        )
        with av.open(str(out_path), "w", format=container_format, options=options) as output:
            out_video = _h264_stream(output, in_video, info)
            copyable = COPYABLE_AUDIO_CODECS if container_format == "mp4" else TS_AUDIO_CODECS
            audio_copy = in_audio is not None and info.audio_codec in copyable
            out_audio = None
            if in_audio is not None:
                out_audio = (
                    output.add_stream_from_template(in_audio)
                    if audio_copy
                    else output.add_stream("aac", rate=in_audio.codec_context.sample_rate)
                )
            frames = _decoded_with_audio(
                container, info, name, in_audio, out_audio, output, audio_copy
            )
            for index, (frame, rgb) in enumerate(frames):
                painted = render(index, rgb)[:height, :width]
                new = av.VideoFrame.from_ndarray(np.ascontiguousarray(painted), format="rgb24")
                new.pts, new.time_base = frame.pts, in_video.time_base
                for packet in out_video.encode(new):
                    output.mux(packet)
                if progress is not None:
                    progress(index + 1, info.frames)
            for packet in out_video.encode(None):
                output.mux(packet)
            if out_audio is not None and not audio_copy:
                for packet in out_audio.encode(None):
                    output.mux(packet)
        return info
    finally:
        container.close()


def _decoded_with_audio(
    container: av.container.InputContainer,
    info: VideoInfo,
    name: str,
    in_audio: av.audio.stream.AudioStream | None,
    out_audio: av.stream.Stream | None,
    output: av.container.OutputContainer | None,
    copy: bool = False,
) -> Iterator[tuple[av.VideoFrame, np.ndarray]]:
    """Demux video and audio in one pass: video frames are yielded, audio goes straight out."""
    in_video = container.streams.video[0]
    streams = [in_video] + ([in_audio] if in_audio is not None else [])
    count = 0
    try:
        for packet in container.demux(streams):
            if packet.stream.type == "audio":
                # Audio is demuxed only when it goes out (in_audio and out_audio together).
                if packet.dts is None or out_audio is None or output is None:
                    continue  # None dts: the demuxer's flush packet
                _mux_audio(output, out_audio, packet, copy)
                continue
            for frame in packet.decode():
                if isinstance(frame, av.VideoFrame):  # the other demuxed stream is the video
                    count += 1
                    yield frame, _upright(frame.to_ndarray(format="rgb24"), info.rotation)
    except av.error.FFmpegError as error:
        if count and in_video.frames and count < in_video.frames:
            raise VideoInputError(
                "truncated", f"{name} breaks off after {count} of its {in_video.frames} frames"
            ) from error
        raise VideoInputError(
            "corrupt", f"{name}: decoding failed after {count} frames ({error.strerror})"
        ) from error
    if count == 0:
        raise VideoInputError("corrupt", f"{name} has no decodable video frames")
    if in_video.frames and count < 0.9 * in_video.frames:
        raise VideoInputError(
            "truncated", f"{name} ends after {count} of its {in_video.frames} frames (cut off?)"
        )


def _mux_audio(output: Any, out_audio: Any, packet: Any, copy: bool) -> None:
    """One audio packet into ``output``: copied when its codec fits, else re-encoded."""
    if copy:
        packet.stream = out_audio
        output.mux(packet)
    elif isinstance(out_audio, av.audio.stream.AudioStream):
        for audio_frame in packet.decode():
            if isinstance(audio_frame, av.AudioFrame):
                audio_frame.pts = None
                for encoded in out_audio.encode(audio_frame):
                    output.mux(encoded)
