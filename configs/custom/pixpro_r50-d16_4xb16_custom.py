# Your own data, PixPro pretraining, GPU size (README, "Your own data"): the PixPro thesis' final
# method (ResNet-50, LocalPPM 5x5, Momentum BN, erasing, 100 epochs, 64 a batch on 4 GPUs) over
# every image under MYDATA/unlabelled.
#   SEGSSL_DATA_ROOT=MYDATA torchrun --nproc_per_node=4 tools/train.py configs/custom/pixpro_r50-d16_4xb16_custom.py --launcher pytorch
_base_ = ['../pretrain/pixpro_r50-d16_final_4xb16-100ep_imagenet.py',
          '../_base_/datasets/custom_folder-512x512.py']

train_dataloader = dict(dataset=dict(data_root={{_base_.custom_root}}, data_prefix=dict(img_path='unlabelled')))
