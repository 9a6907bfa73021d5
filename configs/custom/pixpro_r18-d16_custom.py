# Your own data, PixPro pretraining, CPU size (README, "Your own data"): the final method of the
# PixPro thesis on a ResNet-18 (LocalPPM 5x5, Momentum BN, erasing) over every image under
# MYDATA/unlabelled (any nesting). Then convert and fine-tune:
#   SEGSSL_DATA_ROOT=MYDATA python tools/train.py configs/custom/pixpro_r18-d16_custom.py --work-dir W
#   python tools/convert_checkpoint.py W/iter_300.pth r18_mmseg.pth --to mmseg
#   SEGSSL_DATA_ROOT=MYDATA SEGSSL_BACKBONE=r18_mmseg.pth python tools/train.py configs/custom/supervised_deeplabv2_r18-d8_custom-128x128.py
_base_ = ['../pretrain/pixpro_r18-d16_localppm5-mbn-erase_synthetic.py',
          '../_base_/datasets/custom_folder-128x128.py']

train_dataloader = dict(dataset=dict(data_root={{_base_.custom_root}}, data_prefix=dict(img_path='unlabelled')))
