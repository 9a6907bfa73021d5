# Your own data (README, "Your own data"), GPU size: as custom_folder-128x128.py, with images
# resized to 1024 px on the long side (x 0.5-2 when training) and cropped to 512x512.
_base_ = []
from segssl.mmseg.datasets.folder import custom_datasets  # noqa: E402  (read when parsed)

custom_crop = (512, 512)
custom_root = '{{$SEGSSL_DATA_ROOT:data/custom}}'
custom = custom_datasets(custom_root, crop=custom_crop, scale=(1024, 1024),
                         split='{{$SEGSSL_SPLIT:all}}')
custom_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
