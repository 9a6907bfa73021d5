"""Synthetic frame folders (shifted crops of one scene), the frame-folder dataset and the clip
transforms of the SimCLR report's video anchor loss."""
import os

import numpy as np
import pytest
from conftest import skip_without_mmseg
from PIL import Image

skip_without_mmseg()


@pytest.fixture(scope='module')
def frames_root(tmp_path_factory):
    from segssl.synthetic import generate_frame_folders
    out = tmp_path_factory.mktemp('frames') / 'videos'
    generate_frame_folders(str(out), num_videos=3, num_frames=6, height=32, width=48, shift=4, seed=0)
    return str(out)


def read(root, v, t):
    return np.asarray(Image.open(os.path.join(root, f'video_{v:03d}', f'frame_{t:03d}.png')))


def test_frames_are_shifted_crops_and_reproducible(frames_root, tmp_path):
    from segssl.synthetic import generate_frame_folders
    assert sorted(os.listdir(frames_root)) == ['video_000', 'video_001', 'video_002']
    for t in range(5):  # frame t+1 is frame t moved by (2 rows, 4 columns)
        a, b = read(frames_root, 1, t), read(frames_root, 1, t + 1)
        assert a.shape == (32, 48, 3) and np.array_equal(a[2:, 4:], b[:-2, :-4])
        assert not np.array_equal(a, b)
    assert not np.array_equal(read(frames_root, 0, 0), read(frames_root, 1, 0))
    again = tmp_path / 'again'
    generate_frame_folders(str(again), num_videos=3, num_frames=6, height=32, width=48, shift=4, seed=0)
    for v in range(3):
        for t in range(6):
            assert open(os.path.join(frames_root, f'video_{v:03d}', f'frame_{t:03d}.png'), 'rb').read() == \
                open(again / f'video_{v:03d}' / f'frame_{t:03d}.png', 'rb').read()
    with pytest.raises(FileExistsError):
        generate_frame_folders(str(again), num_videos=1, num_frames=2, height=32, width=32)
    with pytest.raises(ValueError, match='num_frames'):
        generate_frame_folders(str(tmp_path / 'x'), num_frames=0)


def test_dataset_lists_videos_and_skips_short_ones(frames_root, tmp_path):
    from segssl.mmseg.datasets import FrameFolderDataset
    ds = FrameFolderDataset(data_root=frames_root, min_frames=4)
    assert len(ds) == 3
    item = ds.get_data_info(1)
    assert item['video'] == 'video_001' and len(item['frame_paths']) == 6
    assert [os.path.basename(p) for p in item['frame_paths']] == [f'frame_{t:03d}.png' for t in range(6)]
    with pytest.raises(FileNotFoundError, match=r'no video .* >= 7 image files \(3 folder'):
        FrameFolderDataset(data_root=frames_root, min_frames=7)
    with pytest.raises(FileNotFoundError, match='does not exist'):
        FrameFolderDataset(data_root=str(tmp_path / 'nothing'))


def test_clip_sampling_loading_views_and_packing(frames_root):
    import mmcv

    from segssl.mmseg.datasets import FrameFolderDataset
    from segssl.mmseg.transforms import FrameClipViews, PackFrameClip, SampleFrameClip
    ds = FrameFolderDataset(data_root=frames_root, min_frames=4)
    item = ds.get_data_info(2)
    sample = SampleFrameClip(num_frames=2, frame_interval=2)
    np.random.seed(0)
    anchors = set()
    for _ in range(60):
        r = sample(dict(item))
        t0 = int(r['frame_indices'][0])
        anchors.add(t0)
        assert r['frame_indices'].tolist() == [t0, t0 + 2, t0 + 4]
        for img, t in zip(r['frames'], r['frame_indices']):
            assert np.array_equal(img, mmcv.imread(item['frame_paths'][t]))  # BGR as LoadImageFromFile
    assert anchors == {0, 1}  # 6 frames, span 4: t0 in {0, 1}
    with pytest.raises(ValueError, match='min_frames to 7'):
        SampleFrameClip(num_frames=3, frame_interval=2)(dict(item))
    # identity views: whole frame, same size, no flip, no colour change
    plain = FrameClipViews(size=48, scale=(1.0, 1.0), ratio=(1.5, 1.5), flip_prob=0.0,
                           color=dict(jitter_prob=0.0, grayscale_prob=0.0, blur_prob=0.0))
    r = plain(sample(dict(item)))
    assert all(f.shape == (48, 48, 3) for f in r['frames'])
    packed = PackFrameClip()(FrameClipViews(size=24)(sample(dict(item))))
    assert tuple(packed['inputs'].shape) == (3, 3, 24, 24) and str(packed['inputs'].dtype) == 'torch.uint8'
    assert packed['data_samples'].video == 'video_002'
    with pytest.raises(ValueError, match='one probability for every frame'):
        FrameClipViews(color=dict(blur_prob=(1.0, 0.1)))


def test_identity_view_equals_resized_frame(frames_root):
    import cv2

    from segssl.mmseg.transforms import FrameClipViews
    frame = np.random.RandomState(0).randint(0, 256, (32, 32, 3)).astype(np.uint8)
    plain = FrameClipViews(size=32, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_prob=0.0,
                           color=dict(jitter_prob=0.0, grayscale_prob=0.0, blur_prob=0.0))
    out = plain(dict(frames=[frame, frame[::-1].copy()]))['frames']
    assert np.array_equal(out[0], frame) and np.array_equal(out[1], frame[::-1])
    flipped = FrameClipViews(size=16, scale=(1.0, 1.0), ratio=(1.0, 1.0), flip_prob=1.0,
                             color=dict(jitter_prob=0.0, grayscale_prob=0.0, blur_prob=0.0))
    expected = cv2.resize(frame, (16, 16), interpolation=cv2.INTER_LINEAR)[:, ::-1]
    assert np.array_equal(flipped(dict(frames=[frame]))['frames'][0], expected)
