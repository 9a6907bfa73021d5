# Your own data (README, "Your own data"), CPU size: SEGSSL_DATA_ROOT=MYDATA holding images/,
# labels/, classes.txt and optionally unlabelled/ and source/. Images are resized to 256 px on
# the long side (x 0.5-2 when training) and cropped to 128x128. SEGSSL_SPLIT=1-8 (or 1-30, 1-4,
# 1-2) trains on the ids of MYDATA/splits/1-8/labelled.txt (tools/make_label_splits.py MYDATA
# --dataset custom); unset (all), on all of images/train. Names here start with custom_, so a
# template can inherit this file beside a method's config.
_base_ = []
from segssl.mmseg.datasets.folder import custom_datasets  # noqa: E402  (read when parsed)

custom_crop = (128, 128)
custom_root = '{{$SEGSSL_DATA_ROOT:data/custom}}'
custom = custom_datasets(custom_root, crop=custom_crop, scale=(256, 256),
                         split='{{$SEGSSL_SPLIT:all}}')
custom_evaluator = dict(type='IoUMetric', iou_metrics=['mIoU'])
