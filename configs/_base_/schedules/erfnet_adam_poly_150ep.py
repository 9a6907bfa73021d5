# The ERFNet thesis's optimisation (Section 4.2): Adam, lr 5e-4, polynomial decay per epoch
# lr = 5e-4 (1 - epoch / max_epochs)^0.9. 150 epochs, as the report's "then all 150" stage.
# betas / eps / weight decay 1e-4 are not in the report: erfnet_pytorch's training script values.
# (configs using it set log_processor = dict(by_epoch=True): mmseg's default_runtime sets it too)
max_epochs = 150
optim_wrapper = dict(type='OptimWrapper',
                     optimizer=dict(type='Adam', lr=5e-4, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-4))
param_scheduler = [dict(type='PolyLR', power=0.9, eta_min=0.0, by_epoch=True, begin=0, end=max_epochs)]
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs, val_interval=10)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
# visualization: mmseg's hook, which tools/test.py --show-dir turns on (draws every test image);
# per_class_metrics: IoU.<class>, Acc.<class> in the validation metrics (scalars.json).
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', by_epoch=True, interval=10, max_keep_ckpts=2),
    logger=dict(type='LoggerHook', interval=50),
    visualization=dict(type='SegVisualizationHook', interval=1),
    per_class_metrics=dict(type='PerClassMetricsHook'))
