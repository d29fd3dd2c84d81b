"""SynthPose: procedural synthetic people for training pose estimators without real data.

Bodies are articulated capsule/ellipsoid/hull models with Drillis & Contini proportions (as
tabulated by Winter, *Biomechanics and Motor Control of Human Movement*), random identities
(shape, skin, face, hair, clothing), random static poses and the 16 SPHP exercise motions,
rendered on one CPU core with OpenCV at the final resolution.

Public API (sizes are ``(width, height)``; images ``(H, W, 3)`` uint8 RGB; keypoints
``(N, K, 3)`` float32 (x, y, v) in the SYNTH joint set with pixel centres at integers)::

    sample_person(seed_or_rng, size=(128, 128), config=None) -> Sample        # one crop
    sample_people(seeds, size=(128, 128), config=None) -> list[Sample]       # batched crops
    sample_scene(seed_or_rng, size=(456, 256), num_people=5, config=None) -> Sample
    sample_sequence(seed_or_rng, action_id, n_frames=60, fps=30.0, size=(384, 288)) -> Sequence
    SynthPose(seed, kind="person" | "scene" | "sequence")[i]  # sample i = f(seed, i)
    synth_to(joint_set, values) -> values in coco17 / mpii16 / lsp14 / openpose18 / sphp13 /
                                  humaneva15 order (by joint name, nothing approximated)
    random_identity(rng), identity_from_id(i, seed), random_pose(rng),
    motion_sequence(action_id, n_frames, fps, rng), ACTIONS, ACTION_CLASSES
    render_people(image, shapes, points, camera, light) / render_batch(...)  # low level
    bench_synth(n=..., repeats=5) -> dict of median images/s
"""

from posekit.synth.body import (
    DOF_NAMES,
    LIMITS,
    SYNTH_JOINTS,
    SYNTH_SKELETON,
    BodyShape,
    Identity,
    body_shape,
    clip_pose,
    forward_kinematics,
    identity_from_id,
    neutral_pose,
    pose_points,
    random_identity,
    segment_lengths,
    synth_to,
)
from posekit.synth.motions import (
    ACTION_CLASSES,
    ACTIONS,
    CLASS_NAMES,
    Motion,
    action_class,
    motion_sequence,
    random_pose,
    static_motion,
)
from posekit.synth.render import Annotations, Camera, Light, look_at, render_batch, render_people
from posekit.synth.scenes import (
    Sample,
    Sequence,
    SynthConfig,
    SynthPose,
    sample_people,
    sample_person,
    sample_rng,
    sample_scene,
    sample_sequence,
)


def bench_synth(n: int = 300, repeats: int = 5) -> dict:
    """Median SynthPose throughput on one core (see ``posekit.synth.bench``)."""
    from posekit.synth.bench import bench_synth as _bench

    return _bench(n=n, repeats=repeats)


__all__ = [
    "ACTIONS", "ACTION_CLASSES", "CLASS_NAMES", "DOF_NAMES", "LIMITS", "SYNTH_JOINTS",
    "SYNTH_SKELETON", "Annotations", "BodyShape", "Camera", "Identity", "Light", "Motion",
    "Sample", "Sequence", "SynthConfig", "SynthPose", "action_class", "bench_synth",
    "body_shape", "clip_pose", "forward_kinematics", "identity_from_id", "look_at",
    "motion_sequence", "neutral_pose", "pose_points", "random_identity", "random_pose",
    "render_batch", "render_people", "sample_people", "sample_person", "sample_rng",
    "sample_scene", "sample_sequence", "segment_lengths", "static_motion", "synth_to",
]  # fmt: skip
