"""An int8 recipe tried and not kept (see bench/int8_recipes.py): weights per output channel, activations per row.

ONNX Runtime's dynamic quantization gives each activation tensor one scale, taken over the whole batch, so a
window's scores move with the windows it is batched with. Here every MatMul with a weight initializer becomes

    s   = max(|x|, over the last axis) / 127            one scale per token row
    x_q = round(x / s) + 128                            uint8
    y   = float(MatMulInteger(x_q, W_q, 128)) * s * w_scale

with W_q = round(W / w_scale), w_scale = max(|W|, per column) / 127. A row's quantized values depend on that row
alone, and integer products are exact, so a window scores the same in any batch (and more precisely than with one
scale per tensor). The MatMuls named in `exclude` (the heads) stay fp32, as do activation-by-activation MatMuls.
The graph's inputs, outputs and every other node are kept as they are."""

from __future__ import annotations

from pathlib import Path

import numpy as np

_LEVELS = 127.0
_ZERO_POINT = 128
_TINY = 1e-12  # an all-zero row keeps scale > 0 (it quantizes to zeros either way)


def quantize_weight(weight: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Symmetric int8 per output column: (W_q [K, N] int8, scale [N] float32)."""
    scale = np.maximum(np.abs(weight).max(axis=0), _TINY) / _LEVELS
    q = np.clip(np.rint(weight / scale), -_LEVELS, _LEVELS).astype(np.int8)
    return q, scale.astype(np.float32)


def quantize_rows(source: Path, target: Path, exclude: set[str]) -> int:
    """Write `source`'s graph with every weight MatMul not in `exclude` in per-row int8; returns how many."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    model = onnx.load(str(source))
    graph = model.graph
    weights = {init.name: init for init in graph.initializer}
    constants = [
        numpy_helper.from_array(np.array(_LEVELS, dtype=np.float32), "rows_q/levels"),
        numpy_helper.from_array(np.array(_TINY, dtype=np.float32), "rows_q/tiny"),
        numpy_helper.from_array(np.array(_ZERO_POINT, dtype=np.float32), "rows_q/zp_float"),
        numpy_helper.from_array(np.array(_ZERO_POINT, dtype=np.uint8), "rows_q/zp"),
        numpy_helper.from_array(np.array(0.0, dtype=np.float32), "rows_q/low"),
        numpy_helper.from_array(np.array(255.0, dtype=np.float32), "rows_q/high"),
    ]
    quantized_inputs: dict[str, tuple[str, str]] = {}  # activation -> (x_q, row scale), shared by its MatMuls
    nodes, replaced, dropped = [], 0, set()
    for node in graph.node:
        weight = weights.get(node.input[1]) if node.op_type == "MatMul" else None
        if weight is None or node.name in exclude or len(weight.dims) != 2:
            nodes.append(node)
            continue
        replaced += 1
        x = node.input[0]
        if x not in quantized_inputs:
            quantized_inputs[x] = _quantize_activation(x, f"rows_q/a{len(quantized_inputs)}", nodes, helper)
        x_q, row_scale = quantized_inputs[x]
        w_q, w_scale = quantize_weight(numpy_helper.to_array(weight).astype(np.float32))
        name = f"rows_q/{node.name.strip('/').replace('/', '_') or replaced}"
        constants += [numpy_helper.from_array(w_q, f"{name}/w_q"), numpy_helper.from_array(w_scale, f"{name}/w_s")]
        dropped.add(weight.name)
        nodes += [
            helper.make_node("MatMulInteger", [x_q, f"{name}/w_q", "rows_q/zp"], [f"{name}/int"], name=f"{name}/mm"),
            helper.make_node("Cast", [f"{name}/int"], [f"{name}/f"], to=TensorProto.FLOAT, name=f"{name}/cast"),
            helper.make_node("Mul", [f"{name}/f", f"{name}/w_s"], [f"{name}/fw"], name=f"{name}/ws"),
            helper.make_node("Mul", [f"{name}/fw", row_scale], list(node.output), name=f"{name}/rs"),
        ]
    still_read = {i for n in nodes for i in n.input}
    kept = [init for init in graph.initializer if init.name not in dropped or init.name in still_read]
    del graph.node[:]
    graph.node.extend(nodes)
    del graph.initializer[:]
    graph.initializer.extend(kept + constants)
    onnx.checker.check_model(model)
    onnx.save(model, str(target))
    return replaced


def _quantize_activation(x: str, name: str, nodes: list, helper: object) -> tuple[str, str]:
    """Append the nodes that quantize activation `x` per row; returns (x_q, row scale) names."""
    make = helper.make_node  # type: ignore[attr-defined]
    nodes += [
        make("Abs", [x], [f"{name}/abs"], name=f"{name}/abs"),
        make("ReduceMax", [f"{name}/abs"], [f"{name}/max"], axes=[-1], keepdims=1, name=f"{name}/max"),
        make("Max", [f"{name}/max", "rows_q/tiny"], [f"{name}/max_safe"], name=f"{name}/safe"),
        make("Div", [f"{name}/max_safe", "rows_q/levels"], [f"{name}/scale"], name=f"{name}/scale"),
        make("Div", [x, f"{name}/scale"], [f"{name}/scaled"], name=f"{name}/div"),
        make("Round", [f"{name}/scaled"], [f"{name}/round"], name=f"{name}/round"),
        make("Add", [f"{name}/round", "rows_q/zp_float"], [f"{name}/shift"], name=f"{name}/shift"),
        make("Clip", [f"{name}/shift", "rows_q/low", "rows_q/high"], [f"{name}/clip"], name=f"{name}/clip"),
        make("Cast", [f"{name}/clip"], [f"{name}/q"], to=2, name=f"{name}/cast"),  # 2: UINT8
    ]
    return f"{name}/q", f"{name}/scale"
