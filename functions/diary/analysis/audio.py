"""The diary's sound as 16 kHz mono float32 samples, the input of both speech engines' local path.

Decoded with PyAV directly: the video layer's PyAV I/O (``cheese_ml.video_io``)
copies or re-encodes audio packets into another file but has no decode to
samples; this is that one missing piece.
"""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

SAMPLE_RATE = 16_000


class AudioError(ValueError):
    """The file has no audio stream or it cannot be decoded."""


def extract_audio(path: str | Path, max_seconds: float | None = None) -> np.ndarray:
    """Decode the first audio stream, resampled to 16 kHz mono float32 in [-1, 1]."""
    try:
        container = av.open(str(path))
    except av.error.FFmpegError as error:
        raise AudioError(f"cannot open {path}: {error}") from error
    with container:
        if not container.streams.audio:
            raise AudioError(f"{path} has no audio stream")
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=SAMPLE_RATE)
        chunks: list[np.ndarray] = []
        limit = None if max_seconds is None else int(max_seconds * SAMPLE_RATE)
        total = 0
        try:
            for frame in container.decode(stream):
                for resampled in resampler.resample(frame):
                    chunk = resampled.to_ndarray().reshape(-1)
                    chunks.append(chunk)
                    total += chunk.size
                if limit is not None and total >= limit:
                    break
            for resampled in resampler.resample(None):
                chunks.append(resampled.to_ndarray().reshape(-1))
        except av.error.FFmpegError as error:
            raise AudioError(f"cannot decode the audio of {path}: {error}") from error
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return samples if limit is None else samples[:limit]
