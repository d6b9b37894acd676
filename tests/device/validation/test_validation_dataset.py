"""The validation's video keypoints are the product's own: computed by the station's pose path,
cached exactly, and never served from a cache made by another pose path or model."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np

from device.validation.dataset import pose_path_key, video_keypoints

CLIP = "overground_side_run_30fps.mp4"  # 1.6 s: MoveNet runs in seconds


def _same(a, b) -> bool:
    return (
        np.array_equal(a.t, b.t)
        and np.array_equal(a.xy, b.xy, equal_nan=True)
        and np.array_equal(a.score, b.score)
        and np.array_equal(a.frame, b.frame)
        and (a.width, a.height) == (b.width, b.height)
    )


def test_cached_keypoints_equal_the_pose_paths_own(
    tmp_path: Path, samples_dir: Path, model_path: Path
) -> None:
    from device.analyze import _load_config, pose_timeline

    video = samples_dir / CLIP
    direct, _facts = pose_timeline(video, _load_config(None), str(model_path), None, False)
    first = video_keypoints(video, tmp_path, str(model_path))
    cached = list((tmp_path / "keypoints").iterdir())
    assert len(cached) == 1 and cached[0].suffix == ".npz"
    again = video_keypoints(video, tmp_path, str(model_path))  # from the cache
    assert _same(direct, first) and _same(direct, again)
    # float arrays, not the CSV's 0.01 px: the figures are those of the keypoints analysed
    assert np.any(np.abs(direct.xy * 100 - np.round(direct.xy * 100)) > 1e-3)


def test_a_cache_from_another_pose_path_is_not_read(
    tmp_path: Path, samples_dir: Path, model_path: Path
) -> None:
    video = samples_dir / CLIP
    tl = video_keypoints(video, tmp_path, str(model_path))
    (entry,) = (tmp_path / "keypoints").iterdir()
    # a stale entry of the same video under another pose path: garbage that must not be served
    stale = entry.with_name(entry.name.split("-")[0] + "-0123456789abcdef.npz")
    np.savez(stale, t=tl.t, xy=np.zeros_like(tl.xy), score=tl.score, frame=tl.frame, meta="{}")
    entry.unlink()
    again = video_keypoints(video, tmp_path, str(model_path))
    assert _same(tl, again)


def test_the_key_follows_the_model_file(tmp_path: Path, model_path: Path) -> None:
    other = tmp_path / model_path.name
    shutil.copyfile(model_path, other)
    assert pose_path_key(other) == pose_path_key(model_path)
    with open(other, "r+b") as fh:  # one byte of the weights changed: another model
        fh.seek(-1, 2)
        last = fh.read(1)
        fh.seek(-1, 2)
        fh.write(bytes([last[0] ^ 0xFF]))
    assert pose_path_key(other) != pose_path_key(model_path)


def test_noise_draws_move_each_pixel_level_by_at_most_one(samples_dir: Path) -> None:
    from device.camera.video import VideoFileSource
    from device.validation.dataset import DitheredVideo

    video = samples_dir / CLIP
    sources = (
        VideoFileSource(video),
        DitheredVideo(video, 1),
        DitheredVideo(video, 1),
        DitheredVideo(video, 2),
    )
    for s in sources:
        s.open()
    try:
        for _ in range(3):
            p, fa, fb, fc = (s.read() for s in sources)
            assert p is not None and fa is not None and fb is not None and fc is not None
            d = fa.image.astype(int) - p.image
            assert np.abs(d).max() == 1 and 0.5 < np.mean(d != 0) < 0.75
            assert np.array_equal(fa.image, fb.image) and not np.array_equal(fa.image, fc.image)
            assert fa.t == p.t
    finally:
        for s in sources:
            s.close()


def test_degraded_copies_are_seeded_transforms_of_the_decode(samples_dir: Path) -> None:
    from device.camera.video import VideoFileSource
    from device.validation.dataset import DEGRADATIONS, LABELLED_CLIP, DegradedVideo

    video = samples_dir / LABELLED_CLIP

    def first(src: VideoFileSource) -> np.ndarray:
        src.open()
        try:
            frame = src.read()
            assert frame is not None
            return frame.image
        finally:
            src.close()

    plain = first(VideoFileSource(video))
    luma = {name: float(first(DegradedVideo(video, name)).mean()) for name in DEGRADATIONS}
    assert luma["dark"] < 0.6 * plain.mean() and luma["washed out"] > plain.mean()
    noisy = [first(DegradedVideo(video, "noisy")) for _ in range(2)]
    assert np.array_equal(noisy[0], noisy[1]) and not np.array_equal(noisy[0], plain)
    assert 6.0 < float(np.std(noisy[0].astype(float) - plain)) < 9.0  # σ 8, clipped at 0 and 255


def test_copies_that_drop_frames_keep_the_cameras_times(samples_dir: Path) -> None:
    """15 fps keeps every 2nd frame; "every 6th frame dropped" keeps 5 of 6, so its frames come
    33 or 67 ms apart as a camera's that drops one now and then (the times are the file's)."""
    from device.validation.dataset import LABELLED_CLIP, DegradedVideo

    def gaps(name: str) -> list[int]:
        with DegradedVideo(samples_dir / LABELLED_CLIP, name) as src:
            times = [frame.t for _, frame in zip(range(12), src, strict=False)]
        return [round(30 * (b - a)) for a, b in zip(times, times[1:], strict=False)]

    assert gaps("15 fps") == [2] * 11
    assert gaps("every 6th frame dropped") == [1, 1, 1, 1, 2, 1, 1, 1, 1, 2, 1]
