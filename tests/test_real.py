"""posekit.real: offline photos and the BlazePose → COCO-17 mapping."""

import numpy as np
import pytest

from posekit import real
from posekit.skeletons import COCO17

# BlazePose's 33 landmark names (mediapipe PoseLandmark order).
BLAZEPOSE_NAMES = (
    "nose", "left_eye_inner", "left_eye", "left_eye_outer", "right_eye_inner", "right_eye",
    "right_eye_outer", "left_ear", "right_ear", "mouth_left", "mouth_right", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_pinky",
    "right_pinky", "left_index", "right_index", "left_thumb", "right_thumb", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle", "left_heel",
    "right_heel", "left_foot_index", "right_foot_index",
)  # fmt: skip


def test_mapping_picks_the_same_named_landmark():
    assert [BLAZEPOSE_NAMES[i] for i in real.BLAZEPOSE_TO_COCO17] == list(COCO17.joints)


@pytest.mark.parametrize("name,shape", [("astronaut", (512, 512, 3)), ("camera", (512, 512, 3)),
                                        ("grace_hopper", (600, 512, 3))])  # fmt: skip
def test_photos_are_rgb_uint8(name, shape):
    image = real.photo(name)
    assert image.shape == shape and image.dtype == np.uint8


def test_unknown_photo_and_bad_image():
    with pytest.raises(ValueError, match="photo"):
        real.photo("mona_lisa")
    with pytest.raises(ValueError, match="image"):
        real.blazepose_coco17(np.zeros((8, 8), np.uint8))


def test_blazepose_on_the_astronaut_finds_her_face_and_shoulders():
    if not real.mediapipe_available():
        pytest.skip("mediapipe not installed")
    kp = real.blazepose_coco17(real.photo("astronaut"))
    assert kp is not None, "no person found on astronaut()"
    nose, left_sh, right_sh = kp[0], kp[5], kp[6]
    # Hand-read from the photo: her face spans about x 180-260, y 70-190.
    assert 180 < nose[0] < 260 and 70 < nose[1] < 190 and nose[2] == 2
    # She faces the camera, so her left shoulder is on the image's right.
    assert left_sh[0] > nose[0] > right_sh[0]
