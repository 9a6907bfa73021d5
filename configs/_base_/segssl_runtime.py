# segssl's runtime: mmseg's default runtime run by SegsslRunner (segssl.mmseg.runner).
# Inherit it instead of 'mmseg::_base_/default_runtime.py'. SegsslRunner is mmengine's Runner,
# plus:
#   - distributed training on CPUs under torchrun (gloo, SyncBN through all-reduces, DDP
#     without device_ids); on GPUs it is mmengine's path unchanged;
#   - default hooks added unless the config sets them (or sets them to None):
#     non_finite_loss=NonFiniteLossHook(action='stop') - a NaN/inf loss term stops training,
#       naming the iteration and the term (action='skip' with optim_wrapper
#       type='NonFiniteSkipOptimWrapper' skips the step instead);
#     random_state=RandomStateHook() - the torch RNG state travels in checkpoints, so --resume
#       continues exactly;
#   - a checkpoint hook of type 'CheckpointHook' runs as AtomicCheckpointHook (same arguments):
#     written atomically, the retired checkpoint deleted only after the new one exists.
# segssl's schedules (_base_/schedules/*.py) set default_hooks as mmseg's do, with mmseg's
# visualization=SegVisualizationHook (tools/test.py --show-dir needs it) and
# per_class_metrics=PerClassMetricsHook (IoU.<class>, Acc.<class> in scalars.json); mmengine
# refuses one key in two sibling bases, so this file cannot hold default_hooks itself.
_base_ = ['mmseg::_base_/default_runtime.py']
runner_type = 'SegsslRunner'
# segssl's registries, once for every config that inherits this runtime (mmengine imports the
# merged config's custom_imports; a child that sets imports replaces the whole list).
custom_imports = dict(imports=['segssl.mmseg'], allow_failed_imports=False)

# Where the visualizer writes (scalars, images of add_image: SegVisualizationHook under
# tools/test.py --show-dir, MixVisualizationHook): SEGSSL_VIS=local|tensorboard|wandb selects the
# backends, LocalVisBackend always (WORK_DIR/TIMESTAMP/vis_data/scalars.json and vis_image/, which
# segssl's tools read). tensorboard adds mmengine's TensorboardVisBackend (event files in
# vis_data/; needs the tensorboard package), wandb its WandbVisBackend (needs wandb, logged in,
# or WANDB_MODE=offline). Set per run: SEGSSL_VIS=tensorboard python tools/train.py CONFIG.
import importlib.util  # noqa: E402  (standard library: mmengine keeps this a plain config)

_vis_backends = dict(
    local=[dict(type='LocalVisBackend')],
    tensorboard=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')],
    wandb=[dict(type='LocalVisBackend'), dict(type='WandbVisBackend')])
_vis = '{{$SEGSSL_VIS:local}}'
_vis_problem = None
if _vis not in _vis_backends:
    _vis_problem = f'SEGSSL_VIS={_vis!r}: expected one of {", ".join(_vis_backends)}'
elif _vis != 'local' and importlib.util.find_spec(_vis) is None:     # the package is the name
    _vis_problem = f'SEGSSL_VIS={_vis} needs the {_vis} package, which is not installed (pip install {_vis})'
if _vis_problem:   # before anything is built; segssl's tools print it as one line and exit 2
    raise ValueError(f'segssl_runtime.py: {_vis_problem}')
vis_backends = _vis_backends[_vis]
visualizer = dict(type='SegLocalVisualizer', vis_backends=vis_backends, name='visualizer')
del _vis_backends, _vis, _vis_problem
