"""A pure-numpy forward pass of fer's Keras mini-Xception, straight from the hdf5 file.

Independent of `cheese_ml.convert` (NHWC, TensorFlow padding rules written out
here), so comparing the two checks the ONNX conversion.
"""

from __future__ import annotations

import json
from pathlib import Path

import h5py
import numpy as np


def _weight(h5: h5py.File, layer: str, name: str) -> np.ndarray:
    group = h5["model_weights"][layer]
    for key in group:
        if f"{name}:0" in group[key]:
            return np.asarray(group[key][f"{name}:0"], dtype=np.float64)
    raise KeyError(f"{layer}/{name}")


def _pad_same(x: np.ndarray, kernel: int, stride: int, value: float = 0.0) -> np.ndarray:
    size = x.shape[1]
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    before, after = total // 2, total - total // 2
    return np.pad(x, ((0, 0), (before, after), (before, after), (0, 0)), constant_values=value)


def _windows(x: np.ndarray, kernel: int, stride: int) -> np.ndarray:
    """(n, oh, ow, c, k, k) sliding windows of an NHWC array."""
    view = np.lib.stride_tricks.sliding_window_view(x, (kernel, kernel), axis=(1, 2))
    return view[:, ::stride, ::stride]


def _conv(x: np.ndarray, kernel_hwio: np.ndarray, stride: int, padding: str) -> np.ndarray:
    k = kernel_hwio.shape[0]
    if padding == "same":
        x = _pad_same(x, k, stride)
    return np.einsum("nhwcij,ijco->nhwo", _windows(x, k, stride), kernel_hwio)


def _depthwise(x: np.ndarray, kernel_hwc1: np.ndarray, padding: str) -> np.ndarray:
    k = kernel_hwc1.shape[0]
    if padding == "same":
        x = _pad_same(x, k, 1)
    return np.einsum("nhwcij,ijc->nhwc", _windows(x, k, 1), kernel_hwc1[:, :, :, 0])


def forward(hdf5_path: Path, grey: np.ndarray) -> np.ndarray:
    """grey: (n, 64, 64) in [-1, 1] -> (n, 7) softmax probabilities, in float64."""
    with h5py.File(hdf5_path, "r") as h5:
        layers = json.loads(h5.attrs["model_config"])["config"]["layers"]
        out: dict[str, np.ndarray] = {}
        last = ""
        for layer in layers:
            kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
            sources = (
                [entry[0] for entry in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            )
            x = out[sources[0]] if sources else None
            if kind == "InputLayer":
                y = grey[..., None].astype(np.float64)
            elif kind == "Conv2D":
                y = _conv(x, _weight(h5, name, "kernel"), cfg["strides"][0], cfg["padding"])
                if cfg["use_bias"]:
                    y = y + _weight(h5, name, "bias")
            elif kind == "SeparableConv2D":
                y = _depthwise(x, _weight(h5, name, "depthwise_kernel"), cfg["padding"])
                y = _conv(y, _weight(h5, name, "pointwise_kernel"), 1, "valid")
            elif kind == "BatchNormalization":
                gamma, beta = _weight(h5, name, "gamma"), _weight(h5, name, "beta")
                mean, var = _weight(h5, name, "moving_mean"), _weight(h5, name, "moving_variance")
                y = (x - mean) / np.sqrt(var + cfg["epsilon"]) * gamma + beta
            elif kind == "Activation" and cfg["activation"] == "relu":
                y = np.maximum(x, 0)
            elif kind == "Activation" and cfg["activation"] == "softmax":
                shifted = np.exp(x - x.max(axis=1, keepdims=True))
                y = shifted / shifted.sum(axis=1, keepdims=True)
            elif kind == "MaxPooling2D":
                k, stride = cfg["pool_size"][0], cfg["strides"][0]
                padded = _pad_same(x, k, stride, value=-np.inf) if cfg["padding"] == "same" else x
                y = _windows(padded, k, stride).max(axis=(4, 5))
            elif kind == "Add":
                y = sum(out[source] for source in sources)
            elif kind == "GlobalAveragePooling2D":
                y = x.mean(axis=(1, 2))
            else:
                raise ValueError(f"layer {kind} not implemented in the reference")
            out[name] = y
            last = name
        return out[last]
