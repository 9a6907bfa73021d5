# The ERFNet thesis: ERFNet fine-tuned on Cityscapes (512x1024, Adam 5e-4, poly 0.9 per epoch, batch 20,
# ENet-weighted CE) from the multilevel Otsu clustering (encoder and decoder) encoder, converted with
#   python tools/convert_checkpoint.py PRETEXT.pth work_dirs/pretrained/erfnet_otsu_mmseg.pth --arch erfnet --to mmseg [--decoder-from DEC.pth]
#   SEGSSL_BACKBONE=work_dirs/pretrained/erfnet_otsu_mmseg.pth python tools/train.py THIS_CONFIG
# The rotation leaf with this pretext's encoder.
_base_ = ['./erfnet_rotation_1xb20_cityscapes-512x1024.py']

pretext_task = 'otsu'
backbone_checkpoint = '{{$SEGSSL_BACKBONE:work_dirs/pretrained/erfnet_otsu_mmseg.pth}}'
model = dict(backbone=dict(init_cfg=dict(checkpoint=backbone_checkpoint)))
