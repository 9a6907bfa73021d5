"""detectron2 training with several CPU processes (gloo), beside detectron2's GPU launcher.

detectron2 0.6's ``launch()`` spawns one process per GPU and its worker asserts
``torch.cuda.is_available()``, initialises NCCL and calls ``torch.cuda.set_device``;
``DefaultTrainer`` wraps the model with ``create_ddp_model``, which passes
``device_ids=[local_rank]`` (rejected by DistributedDataParallel for a CPU module), and its
"SyncBN" is torch's GPU-only SyncBatchNorm. Here:

- :func:`launch` is detectron2's ``launch`` when the device is not the CPU; with
  ``device='cpu'`` it spawns ``num_processes`` processes the same way, with gloo, and sets up
  detectron2's local process group (``comm._LOCAL_PROCESS_GROUP``) as detectron2's worker does.
- :class:`DistributedTrainer` is ``DefaultTrainer`` whose model wrapping also works on the CPU:
  DDP gets no device_ids. SyncBN is handled once, in the config: ``resolve_sync_bn``
  (``segssl.detectron2.config``) makes it detectron2's naiveSyncBN on CPU processes (BN in one
  process). On GPUs it does exactly what ``DefaultTrainer`` does.

``tools/train_net.py --num-gpus N MODEL.DEVICE cpu`` thus trains with N CPU processes.
"""
import logging
import os
from contextlib import contextmanager
from datetime import timedelta

import detectron2.engine.defaults as d2_defaults
import torch
import torch.distributed as dist
import torch.multiprocessing as mp
from detectron2.engine import DefaultTrainer, create_ddp_model
from detectron2.engine import launch as d2_launch
from detectron2.engine.launch import _find_free_port
from detectron2.utils import comm
from torch.nn.parallel import DistributedDataParallel

DEFAULT_TIMEOUT = timedelta(minutes=30)


def launch(main_func, num_processes: int, num_machines: int = 1, machine_rank: int = 0, dist_url=None, args=(),
           timeout=DEFAULT_TIMEOUT, device: str = 'cuda'):
    """detectron2's ``launch`` (``num_processes`` = GPUs per machine), or with ``device='cpu'``
    the same on CPU processes with the gloo backend."""
    if not str(device).startswith('cpu'):
        return d2_launch(main_func, num_processes, num_machines=num_machines, machine_rank=machine_rank,
                         dist_url=dist_url, args=args, timeout=timeout)
    world_size = num_machines * num_processes
    if world_size == 1:
        return main_func(*args)
    if dist_url in (None, 'auto'):
        if num_machines > 1:
            raise ValueError('launch: --dist-url tcp://HOST:PORT is required with several machines')
        dist_url = f'tcp://127.0.0.1:{_find_free_port()}'
    mp.spawn(_cpu_worker, nprocs=num_processes, daemon=False,
             args=(main_func, world_size, num_processes, machine_rank, dist_url, args, timeout))


def _cpu_worker(local_rank, main_func, world_size, num_processes, machine_rank, dist_url, args, timeout):
    rank = machine_rank * num_processes + local_rank
    dist.init_process_group(backend='gloo', init_method=dist_url, world_size=world_size, rank=rank, timeout=timeout)
    assert comm._LOCAL_PROCESS_GROUP is None
    for i in range(world_size // num_processes):  # as detectron2's _distributed_worker
        group = dist.new_group(list(range(i * num_processes, (i + 1) * num_processes)))
        if i == machine_rank:
            comm._LOCAL_PROCESS_GROUP = group
    comm.synchronize()
    main_func(*args)


def wrap_ddp(model, broadcast_buffers=False, **kwargs):
    """detectron2's ``create_ddp_model(model, **kwargs)``; for a CPU model in a group of more
    than one process, DistributedDataParallel without device_ids (which torch rejects for a CPU
    module). SyncBN is decided once, in the config (:func:`segssl.detectron2.config.resolve_sync_bn`
    makes it naiveSyncBN on CPU processes); torch's SyncBatchNorm left in a CPU model is an error."""
    if comm.get_world_size() == 1 or next(model.parameters()).device.type != 'cpu':
        return create_ddp_model(model, broadcast_buffers=broadcast_buffers, **kwargs)
    if any(isinstance(m, torch.nn.SyncBatchNorm) for m in model.modules()):
        raise ValueError('torch SyncBatchNorm needs CUDA: on CPU processes use naiveSyncBN as the norm '
                         '(segssl does it with SEGSSL.SYNC_BN_FALLBACK True, the default)')
    return DistributedDataParallel(model, broadcast_buffers=broadcast_buffers, **kwargs)


@contextmanager
def _models_wrapped_by(wrap):
    """Within the block, detectron2's ``DefaultTrainer.__init__`` wraps its model with ``wrap``
    (it calls its module's ``create_ddp_model``; detectron2 has no other hook for that step)."""
    original = d2_defaults.create_ddp_model
    d2_defaults.create_ddp_model = wrap
    try:
        yield
    finally:
        d2_defaults.create_ddp_model = original


class DistributedTrainer(DefaultTrainer):
    """detectron2's DefaultTrainer, whose model is wrapped by :func:`wrap_ddp` (CPU processes
    too); its ``__init__`` is detectron2's own."""

    def __init__(self, cfg):
        with _models_wrapped_by(wrap_ddp):
            super().__init__(cfg)

    def build_writers(self):
        """detectron2's writers; without the ``tensorboard`` package (e.g. a pure-Python install
        on a GPU machine without a package index) its TensorBoard writer is left out, said in one
        log line, instead of stopping the run: metrics.json and the console log stay."""
        import importlib.util
        if importlib.util.find_spec('tensorboard') is not None:
            return super().build_writers()
        from detectron2.utils.events import CommonMetricPrinter, JSONWriter
        logging.getLogger('detectron2').warning(
            'the tensorboard package is not installed: no TensorBoard events are written '
            '(metrics.json and the log are)')
        return [CommonMetricPrinter(self.max_iter), JSONWriter(os.path.join(self.cfg.OUTPUT_DIR, 'metrics.json'))]
