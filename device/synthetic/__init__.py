"""The synthetic runner: keypoint timelines and camera frames of a treadmill runner with exact truth.

``runner``: the kinematic model (:class:`RunnerParams`, :class:`SyntheticRunner`: timeline,
truth, keypoints at a time); ``render``: frames of it for the pose model
(``device.camera.synthetic.SyntheticSource`` serves them as a camera).
"""

from device.synthetic.runner import RunnerParams, SyntheticRunner

__all__ = ["RunnerParams", "SyntheticRunner"]
