"""A labelled and an unlabelled sample together, for consistency training (the ClassMix/DACS thesis: ClassMix's
labelled + unlabelled batches; DACS's source + target batches).

    train_dataloader = dict(
        batch_size=2, sampler=dict(type='InfiniteSampler', shuffle=True),
        dataset=dict(type='PairedDataset',
                     labelled=dict(type='CityscapesDataset', ann_file='splits/1-8/labelled.txt', ...),
                     unlabelled=dict(type='CityscapesDataset', ann_file='splits/1-8/unlabelled.txt',
                                     pipeline=[...no LoadAnnotations...])))

Item i of the N_l * N_u items is the pair (l, u) with

    l = i mod N_l,    u = (i div N_l + o_l) mod N_u,    o = a seeded random offset per labelled index,

a bijection onto all (l, u) pairs: any sampler over range(len) (mmengine's DefaultSampler or
InfiniteSampler, shuffled or not, split across ranks) sees every unlabelled image equally often,
consecutive items differ in both parts, and nothing depends on worker or epoch state. Items are
``dict(labelled=<labelled item>, unlabelled=<unlabelled item>)``; mmengine's default
``pseudo_collate`` turns a list of them into ``dict(labelled=dict(inputs=[...], data_samples=[...]),
unlabelled=dict(...))``, which :class:`PairedSegDataPreProcessor` normalises part by part.
"""
import numpy as np
from mmengine.dataset import BaseDataset
from mmseg.registry import DATASETS

from segssl.data.splits import check_data_list


def _describe(ds) -> str:
    ann = getattr(ds, 'ann_file', '')
    where = 'ann_file=' + repr(ann) if ann else 'data_root=' + repr(getattr(ds, 'data_root', ''))
    return f'{type(ds).__name__}({where})'


@DATASETS.register_module()
class PairedDataset:
    """Args:
        labelled, unlabelled: dataset configs (or built datasets). The labelled one needs
            ``seg_map_path`` in its items; the unlabelled one's pipeline need not load labels.
        seed: seed of the per-labelled-index offsets o_l.
        check_files: check (once, at full_init) that every item's image (and, for the labelled
            set, label map) exists and that the two sets share no image, so a split file that does
            not match the dataset stops with an error naming it.
        disjoint: require the two sets to share no image (semi-supervised splits). DACS's source
            and target sets are different datasets and pass trivially.
    """

    def __init__(self, labelled, unlabelled, seed: int = 0, check_files: bool = True, disjoint: bool = True,
                 lazy_init: bool = False):
        self.labelled = self._build('labelled', labelled)
        self.unlabelled = self._build('unlabelled', unlabelled)
        self.seed, self.check_files, self.disjoint = int(seed), check_files, disjoint
        self._fully_initialized = False
        if not lazy_init:
            self.full_init()

    @staticmethod
    def _build(name, cfg):
        if not isinstance(cfg, dict):
            return cfg
        try:
            return DATASETS.build(cfg)
        except ValueError as e:  # mmengine cannot serialise an empty data list
            where = f"{cfg.get('type')}(ann_file={cfg.get('ann_file', '')!r})"
            raise ValueError(f'PairedDataset {name} set {where} could not be built: {e} '
                             '(no samples: an empty split file or folder?)') from e

    @property
    def metainfo(self) -> dict:
        return self.labelled.metainfo

    def full_init(self) -> None:
        if self._fully_initialized:
            return
        for ds in (self.labelled, self.unlabelled):
            if hasattr(ds, 'full_init'):
                ds.full_init()
        if self.check_files:
            self._check()
        n_l = len(self.labelled)
        self._offsets = np.random.default_rng(self.seed).integers(0, max(1, len(self.unlabelled)), n_l)
        self._fully_initialized = True

    def _check(self) -> None:
        parts = (('labelled', self.labelled, ('img_path', 'seg_map_path')), ('unlabelled', self.unlabelled,
                                                                             ('img_path', )))
        for name, ds, keys in parts:
            where = f'PairedDataset {name} set {_describe(ds)}'
            if isinstance(ds, BaseDataset):
                check_data_list([ds.get_data_info(i) for i in range(len(ds))], where, keys)
            elif len(ds) == 0:
                raise ValueError(f'{where}: no samples')
        if self.disjoint and isinstance(self.labelled, BaseDataset) and isinstance(self.unlabelled, BaseDataset):
            lab = {self.labelled.get_data_info(i)['img_path'] for i in range(len(self.labelled))}
            both = sorted(lab & {self.unlabelled.get_data_info(i)['img_path'] for i in range(len(self.unlabelled))})
            if both:
                raise ValueError(f'PairedDataset: {len(both)} images are in both the labelled set '
                                 f'{_describe(self.labelled)} and the unlabelled set {_describe(self.unlabelled)}, '
                                 f'e.g. {both[:3]}; expected disjoint splits (disjoint=False to allow)')

    def __len__(self) -> int:
        self.full_init()
        return len(self.labelled) * len(self.unlabelled)

    def pair_indices(self, idx: int):
        """(l, u) of item ``idx`` (see the module docstring)."""
        n_l, n_u = len(self.labelled), len(self.unlabelled)
        if not 0 <= idx < n_l * n_u:
            raise IndexError(f'PairedDataset index {idx} out of range [0, {n_l * n_u})')
        l, q = idx % n_l, idx // n_l
        return l, int((q + self._offsets[l]) % n_u)

    def __getitem__(self, idx: int) -> dict:
        self.full_init()
        l, u = self.pair_indices(int(idx))
        return dict(labelled=self.labelled[l], unlabelled=self.unlabelled[u])
