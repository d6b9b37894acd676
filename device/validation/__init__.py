"""Validation of the gait engine against ground truth (force-plate trials, labelled video,
the synthetic runner). Development tooling: it reads files and may be slow; the pure gait core
(``device.gait``) never imports it.

- :mod:`.dataset`: the development set, the labelled clip and the sample clips (keypoints of a
  video come from MoveNet once and are cached outside the repository, keyed by the file's sha);
- :mod:`.scoring`: event matching and per-trial / per-runner figures;
- :mod:`.cli`: ``gait-station validate``, one table per condition;
- :mod:`.reference`: the synthetic runner and the single shared force-plate trial.
"""
