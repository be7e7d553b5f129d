# ReCo (Shin, Xie, Albanie, NeurIPS 2022), training-free, as configs/reco_*.yaml of NoelShin/reco:
# retrieval by CLIP ViT-L/14@336 (the index: tools/build_index.py), k=50 images per class,
# co-segmentation with DeiT-S/16 trained on Stylized ImageNet (Naseer et al.; a local file:
# model.encoder.checkpoint) at 224, DenseCLIP RN50x16 text attention, context elimination with
# tree/sky/building/road/person, the 85 DenseCLIP/MaskCLIP templates.
model = dict(
    type='ReCoSegmentor',
    clip=dict(model_name='RN50x16', pretrained='openai', quick_gelu=True),
    encoder=dict(type='TimmProxy', model_name='deit_small_distilled_patch16_224', pretrained=True,
                 checkpoint=None),
    retrieval_clip=dict(model_name='ViT-L-14-336', pretrained='openai', quick_gelu=True),
    index=None,
    k=50,
    coseg_size=224,
    context_categories=('tree', 'sky', 'building', 'road', 'person'),
    context_elimination=True,
    text_attention=True,
    seed_slice='authors',
    templates='maskclip')
