"""The gait station's device side: camera, pose, gait analysis, capture, controls, storage, printing."""

__version__ = "0.1.0"
