# CPU-sized twin of uda_250k.py: the report's SGD (momentum 0.9, wd 5e-4, classifier 10x, poly 0.9)
# with lr 0.01 instead of 2.5e-4 (random init, few iterations) and 1000 iterations instead of 250k.
max_iters = 1000
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=5e-4),
    paramwise_cfg=dict(custom_keys={'decode_head': dict(lr_mult=10.0)}))
param_scheduler = [dict(type='PolyLR', eta_min=0.0, power=0.9, begin=0, end=max_iters, by_epoch=False)]
train_cfg = dict(type='IterBasedTrainLoop', max_iters=max_iters, val_interval=max_iters)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
randomness = dict(seed=0)
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    logger=dict(type='LoggerHook', interval=50, log_metric_by_epoch=False),
    checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=max_iters, max_keep_ckpts=1),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
