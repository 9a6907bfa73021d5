# The Mask R-CNN thesis, BYOL final: as the baseline with the projector's and predictor's hidden width
# reduced from 4096 to 2048 (the report: "converges faster"), 350k iterations.
_base_ = ['./byol_r50-h4096_1xb64_coco2014-224.py']

max_iters = 350000
warmup_iters = 12935
model = dict(projector=dict(hidden_channels=2048), predictor=dict(hidden_channels=2048))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=warmup_iters),
    dict(type='CosineAnnealingLR', T_max=max_iters - warmup_iters, eta_min=0.0, by_epoch=False,
         begin=warmup_iters, end=max_iters),
]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters)
