# The ERFNet thesis Table 5.3 (line ~365, "how the method for initializing pre-training tasks effect
# downstream performance"; both rows trained on the Cityscapes extended set): the rotation task
# started from a random encoder instead of the ImageNet-classification one. The other row is
# erfnet_rotation-waug_1xb128_cityscapes-extra.py (ImageNet-initialised, the default of every pretext
# config). The table's numbers are lost in the report's text; the text (line ~349): trained with no
# ImageNet pre-training "the rotation task takes six times as long to converge" (< 10 epochs
# with ImageNet init) and "performs worse than random initialization" after fine-tuning.
# Everything else as erfnet_rotation-waug_1xb128_cityscapes-extra.py (batch 128, Adam 5e-4, poly, crops +
# colour jitter). Fine-tune as that row: configs/finetune/erfnet/erfnet_rotation_1xb20_cityscapes-512x1024.py
# with SEGSSL_BACKBONE = this run's encoder, converted as that config's header says.
# (the same switch on any pretext config: SEGSSL_IMAGENET_ENCODER=scratch)
_base_ = ['./erfnet_rotation-waug_1xb128_cityscapes-extra.py']

model = dict(backbone=dict(init_cfg=None))
