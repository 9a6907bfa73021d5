# The torchvision-layout start of the ClassMix/DACS report configs: deeplabv2_r101-d8.py's network
# unchanged, an ImageNet ResNet-101 in torchvision layout (convert_checkpoint.py --to mmseg of a
# torchvision resnet101, named by SEGSSL_BACKBONE), RGB input with torchvision's mean/std on every
# dataset. Chosen by SEGSSL_DEEPLABV2_START=torchvision (deeplabv2_start.py). The same variables as
# deeplabv2_start-caffe.py, holding only what each dataset family sets.
deeplabv2_start = dict()
deeplabv2_start_cityscapes = dict(data_preprocessor=dict(size=(512, 1024)))
deeplabv2_start_voc = dict(data_preprocessor=dict(size=(321, 321)), decode_head=dict(num_classes=21))
deeplabv2_start_uda = dict(data_preprocessor=dict(size=(512, 512)))
