"""Readers and writers of the real pose-dataset annotation formats.

No real dataset ships with posekit; these functions read the files once you have them, and
export posekit's synthetic data in the same structures (``write -> read`` round-trips
exactly). Every reader returns posekit conventions: keypoints ``(N, K, 3)`` float32
``(x, y, v)``, 0-based pixels with pixel centres at integer coordinates, ``v`` 0 = not
labelled (x = y = 0), 1 = labelled but occluded, 2 = visible. Formats with 1-based MATLAB
coordinates (MPII, LSP) are shifted by 1. A file that does not have the expected structure,
or holds values no real file has (NaN/inf or beyond-float32 coordinates, negative sizes,
inverted head boxes, ids that are not integers), raises ``FormatError`` (a ``ValueError``)
naming the file and the field; a missing file raises ``FormatFileNotFoundError`` (also a
``FileNotFoundError``). No reader executes code from a file (HumanEva's pickled ``.npz`` is
read with a restricted unpickler).

=================================  ==============================================================
format                             functions
=================================  ==============================================================
MPII ``mpii_human_pose_v1_u12_1``  ``read_mpii_mat``, ``write_mpii_mat``, ``parse_mpii_release``
MPII HRNet ``{train,valid}.json``  ``read_hrnet_mpii_json``, ``write_hrnet_mpii_json``
MPII HRNet ``gt_valid.mat``        ``read_mpii_gt_valid``, ``write_mpii_gt_valid``
LSP / LSPET ``joints.mat``         ``read_lsp_joints``, ``write_lsp_joints``
COCO person keypoints              ``read_coco_keypoints``, ``write_coco_keypoints``,
                                   ``write_coco_results``, ``read_coco_results``
SPHP sequence folders              ``read_sphp_sequence``, ``write_sphp_sequence``, ``sphp_split``
HumanEva-I (VideoPose3D ``.npz``)  ``read_humaneva_2d/3d``, ``write_humaneva_2d/3d``
=================================  ==============================================================
"""

from posekit.datasets.formats.coco import (
    COCO_PERSON_CATEGORY,
    keypoint_bbox,
    read_coco_keypoints,
    read_coco_results,
    write_coco_keypoints,
    write_coco_results,
)
from posekit.datasets.formats.errors import FormatError, FormatFileNotFoundError
from posekit.datasets.formats.humaneva import (
    HUMANEVA15_METADATA,
    HUMANEVA_CAMERAS,
    HUMANEVA_SUBJECTS,
    humaneva_split,
    read_humaneva_2d,
    read_humaneva_3d,
    write_humaneva_2d,
    write_humaneva_3d,
)
from posekit.datasets.formats.lsp import (
    LSP_IMAGE_COUNT,
    detect_lsp_variant,
    lsp_image_name,
    lsp_split,
    read_lsp_joints,
    write_lsp_joints,
)
from posekit.datasets.formats.mpii import (
    MPII_JOINT_NAMES,
    MPIIGroundTruth,
    parse_mpii_release,
    read_hrnet_mpii_json,
    read_mpii_gt_valid,
    read_mpii_mat,
    write_hrnet_mpii_json,
    write_mpii_gt_valid,
    write_mpii_mat,
)
from posekit.datasets.formats.record import ImageAnnotation, group_by_image, values_equal
from posekit.datasets.formats.sphp import (
    SPHP_ACTIONS,
    SPHP_CAMERAS,
    SPHP_FRAMES,
    SPHP_MODALITIES,
    SPHP_SPLITS,
    SPHPSequence,
    read_sphp_image,
    read_sphp_sequence,
    sphp_sequence_dir,
    sphp_split,
    write_sphp_sequence,
)

__all__ = [
    "COCO_PERSON_CATEGORY",
    "HUMANEVA15_METADATA",
    "HUMANEVA_CAMERAS",
    "HUMANEVA_SUBJECTS",
    "LSP_IMAGE_COUNT",
    "MPII_JOINT_NAMES",
    "SPHP_ACTIONS",
    "SPHP_CAMERAS",
    "SPHP_FRAMES",
    "SPHP_MODALITIES",
    "SPHP_SPLITS",
    "FormatError",
    "FormatFileNotFoundError",
    "ImageAnnotation",
    "MPIIGroundTruth",
    "SPHPSequence",
    "detect_lsp_variant",
    "group_by_image",
    "humaneva_split",
    "keypoint_bbox",
    "lsp_image_name",
    "lsp_split",
    "parse_mpii_release",
    "read_coco_keypoints",
    "read_coco_results",
    "read_hrnet_mpii_json",
    "read_humaneva_2d",
    "read_humaneva_3d",
    "read_lsp_joints",
    "read_mpii_gt_valid",
    "read_mpii_mat",
    "read_sphp_image",
    "read_sphp_sequence",
    "sphp_sequence_dir",
    "sphp_split",
    "values_equal",
    "write_coco_keypoints",
    "write_coco_results",
    "write_hrnet_mpii_json",
    "write_humaneva_2d",
    "write_humaneva_3d",
    "write_lsp_joints",
    "write_mpii_gt_valid",
    "write_mpii_mat",
    "write_sphp_sequence",
]
