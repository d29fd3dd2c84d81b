"""Experiments and benchmarks the lessons run: each module measures something about the core
package; nothing in the core imports them.

* ``postprocess``: OpenPose post-processing, naive (maps upsampled) vs at map resolution, and
  the synthetic people and perfect maps it runs on (``posekit bench postprocess``; lesson 04).
* ``grouping_noise``: how grouping degrades when noise is added to perfect maps (lesson 04).
* ``people_scaling``: top-down vs bottom-up time and accuracy as the number of people grows
  (lesson 04).
* ``quantization``: a heatmap decoder's error per output stride (lesson 02).
* ``inference``: eager vs ``optimize_for_inference`` latency of the published networks
  (``posekit bench latency``).
* ``synth_speed``: SynthPose throughput (``posekit bench synth``).
* ``synth_baseline``: can a small network overfit SynthPose, and how hard is it?
* ``efficientpose_synth``: a scaled EfficientPose trained beside lesson 03's networks on the
  same budget (lesson 05).
* ``sensor_speed``: frames/s of the SPHP sensor inputs (edges, motion vectors, events).
* ``sphp_cost``: params, GMACs and CPU latency of the dense SPHP backbones at 288×384.
* ``sphp_table``: SPHP's per-class MPJPE table re-run on synthetic SPHP data.

The measuring primitives (params, MACs, ``latency_ms``) are ``posekit.bench``. Submodules load
on first use: ``posekit.lab.postprocess`` works after ``import posekit``.
"""

import importlib
import pkgutil

_SUBMODULES = frozenset(m.name for m in pkgutil.iter_modules(__path__))


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | _SUBMODULES)
