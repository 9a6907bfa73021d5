# The PixPro thesis's optimisation: LARS, base lr 1.0 x batch / 256, momentum 0.9, weight decay 4e-4,
# BN and biases excluded from adaptation and decay; 5 warm-up epochs then cosine; 30 epochs
# (ablations). Batch 64 -> lr 0.25. Warm-up from lr/100 and cosine to 1e-6 as PixPro's code.
max_epochs = 30
warmup_epochs = 5
optim_wrapper = dict(type='OptimWrapper', constructor='LARSOptimWrapperConstructor',
                     optimizer=dict(type='LARS', lr=1.0 * 64 / 256, momentum=0.9, weight_decay=4e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=True, begin=0, end=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6, by_epoch=True,
         begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=3),
    logger=dict(type='LoggerHook', interval=50),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
