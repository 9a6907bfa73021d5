"""Two-view transforms for pixel-level pretraining (the PixPro thesis / PixPro), registered in mmseg's
TRANSFORMS. A the PixPro thesis pipeline::

    [dict(type='LoadImageFromFile'),
     dict(type='TwoViewCrop', size=224),                    # views, view_boxes/flips/warps/size
     dict(type='ViewColorAugment'),                         # BYOL colour, blur, solarize per view
     dict(type='AffineView', view=0, mode='fixed'),         # optional: warps view 1, records warp
     dict(type='OnlineRandomErasing', fill='black'),        # optional: online copies only
     dict(type='PackPixelViews')]                           # inputs (4, 3, 224, 224) uint8
"""
from .affine_view import AffineView
from .frame_clip import FrameClipViews, PackFrameClip, SampleFrameClip
from .online_erasing import OnlineRandomErasing, OnlineRandomPatchedErasing
from .pack_pixel_views import PackPixelViews
from .two_view_crop import TwoViewCrop, sample_resized_crop_box
from .view_color_augment import ViewColorAugment

__all__ = [
    'AffineView', 'FrameClipViews', 'PackFrameClip', 'SampleFrameClip', 'OnlineRandomErasing',
    'OnlineRandomPatchedErasing', 'PackPixelViews', 'TwoViewCrop', 'ViewColorAugment', 'sample_resized_crop_box'
]
