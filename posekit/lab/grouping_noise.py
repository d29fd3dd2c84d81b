"""How bottom-up grouping degrades when noise is added to perfect maps (lesson 04's plot).

Perfect OpenPose maps of known people (``posekit.lab.postprocess``) plus i.i.d. Gaussian
noise of growing σ go through ``posekit.codecs.grouping.group``; the people found are scored
against the truth (OKS AP, people recovered, joints found, their error).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from posekit.codecs.grouping import group
from posekit.evaluation import match_people
from posekit.lab.postprocess import synth_maps, synth_people
from posekit.metrics import coco_gt_dict, coco_results, oks_ap

__all__ = ["noise_robustness"]


def noise_robustness(
    noise: Sequence[float] = (0.0, 0.05, 0.1, 0.2, 0.3, 0.5),
    num_people: int = 5,
    num_images: int = 10,
    size: tuple[int, int] = (456, 256),
    stride: int = 8,
    layout: str = "separated",
    seed: int = 0,
    **group_kwargs,
) -> list[dict]:
    """How grouping degrades when Gaussian noise is added to perfect maps (a lesson plot).

    ``num_images`` scenes of ``num_people`` SynthPose people (``postprocess.synth_people``:
    ``"separated"`` = well-posed placement, ``"scene"`` = a rendered ``SynthPoseBottomUp``
    scene) are encoded into clean OpenPose maps at ``stride`` (``postprocess.synth_maps``);
    for each noise level σ, i.i.d. ``N(0, σ²)`` noise is added to every heatmap and PAF value
    (the same noise draw for every level, scaled) and the maps are grouped with
    ``group(**group_kwargs)``.

    Returns:
        one dict per level: ``noise``; ``AP`` / ``AP50`` (``metrics.oks_ap`` over all images);
        ``recovered``: % of true people matched (``match_people``) with OKS ≥ 0.5;
        ``people``: predicted people per image (mean); ``joints``: % of the matched people's
        labelled joints that were found; ``error``: their mean distance in input pixels.
    """
    W, H = size
    scenes = [synth_people(num_people, size, seed + i, layout, stride) for i in range(num_images)]
    clean = [synth_maps(s["keypoints"], size, stride) for s in scenes]
    gts = [s["keypoints"] for s in scenes]
    ids = np.repeat(np.arange(1, num_images + 1), [len(g) for g in gts])
    gt_dict = coco_gt_dict(np.concatenate(gts), (H, W),
                           np.concatenate([s["bboxes"] for s in scenes]),
                           np.concatenate([s["areas"] for s in scenes]), ids)  # fmt: skip
    rng = np.random.default_rng(seed)
    draws = [(rng.standard_normal(hm.shape, np.float32), rng.standard_normal(paf.shape, np.float32))
             for hm, paf in clean]  # fmt: skip
    rows = []
    for sigma in noise:
        kps, scs, det_ids, matched, n_pred, errs, n_lab = [], [], [], 0, 0, [], 0
        for i, ((hm, paf), (nh, npf)) in enumerate(zip(clean, draws, strict=True)):
            people = group(hm + sigma * nh, paf + sigma * npf, stride, **group_kwargs)
            kps.append(people.keypoints)
            scs.append(people.scores)
            det_ids += [i + 1] * len(people.scores)
            n_pred += len(people.scores)
            g, p, o = match_people(people.keypoints, gts[i], scenes[i]["areas"])
            good = o >= 0.5
            matched += int(good.sum())
            for gi, pi in zip(g[good], p[good], strict=True):
                lab = gts[i][gi, :, 2] > 0
                found = lab & (people.keypoints[pi, :, 2] > 0)
                d = people.keypoints[pi, found, :2] - gts[i][gi, found, :2]
                errs.append(np.hypot(d[:, 0], d[:, 1]))
                n_lab += int(lab.sum())
        ap = {"AP": 0.0, "AP50": 0.0}
        if det_ids:
            ap = oks_ap(gt_dict, coco_results(np.concatenate(kps), np.concatenate(scs),
                                              np.asarray(det_ids)))  # fmt: skip
        rows.append({
            "noise": float(sigma),
            "AP": ap["AP"],
            "AP50": ap["AP50"],
            "recovered": 100.0 * matched / max(len(ids), 1),
            "people": n_pred / num_images,
            "joints": 100.0 * sum(e.size for e in errs) / max(n_lab, 1),
            "error": float(np.concatenate(errs).mean()) if n_lab else float("nan"),
        })  # fmt: skip
    return rows
