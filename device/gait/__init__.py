"""The pure gait analysis core: keypoint timeline in, Analysis out; no I/O."""
