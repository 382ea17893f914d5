"""ViT architecture settings that a checkpoint's tensor shapes do not tell, by model name.

Used by scripts/convert_checkpoint.py --format timm|openclip --arch NAME. A plain data table in
vitrun's own vocabulary: nothing here imports torch, timm or open_clip.

Where the values were read from (generated once by building every registered model of the
fetched timm on the meta device and inspecting its modules and default pretrained cfg, and by
reading open_clip's model configs and pretrained table; then written out below):
  huggingface/pytorch-image-models @ aa4b5850c1543fa488abf260f18390eda46cf85d
      timm/models/vision_transformer.py, timm/models/deit.py (@register_model names),
      timm/layers/mlp.py, timm/layers/attention_pool.py, timm/data/transforms_factory.py
      Default pretrained cfg = the tag timm resolves as default for the arch
      (timm/models/_registry.py generate_default_cfgs: the first tag in default_cfgs that has
      weights, or a tag marked '*'); other tags that differ are in preprocess_by_tag /
      num_classes_by_tag.
  mlfoundations/open_clip @ 89fb801f1e6087880e951fc8354b8a2077b79c6d
      src/open_clip/model_configs/*.json, model.py (CLIPVisionCfg, _build_vision_tower),
      transformer.py (VisionTransformer, ResidualAttentionBlock), timm_model.py (TimmModel),
      pretrained.py (per-tag mean/std/interpolation/resize_mode), transform.py (image_transform).
      The default tag is the first listed for the name in pretrained.py.
  facebookresearch/dinov2 @ b8931f7bf91576930313be2c6d6af376033b35f0
      dinov2/data/transforms.py (make_classification_eval_transform)
  huggingface/transformers (indexed copies): models/clip/image_processing_clip.py,
      models/siglip/image_processing_siglip.py, models/siglip/convert_siglip_to_hf.py
  See docs/notes/archs.md for position-embedding resampling and state-dict names.

Vocabulary of an entry (a dict):
  patch_size        square patch side in pixels (patch conv: kernel = stride = patch_size)
  image_size        (H, W) the model is built for (timm: its default pretrained cfg's input size)
  hidden_size, num_layers, num_heads   (head_dim = hidden_size // num_heads)
  mlp_dim           MLP hidden width. With activation "swiglu" it is the gated width (fc2's
                    input): "packed" (timm SwiGLUPacked = GluMlp gate_last=False, DINOv2 w12/w3):
                    fc1 has 2*mlp_dim rows, rows [0, mlp_dim) are the gate and
                    [mlp_dim, 2*mlp_dim) the value: h = silu(x Wg + bg) * (x Wv + bv);
                    "split" (timm SwiGLU): fc1_g is the gate, fc1_x the value
  mlp_ratio         the ratio the library was given: mlp_dim = int(hidden_size * mlp_ratio)
                    (packed SwiGLU: int(hidden_size * mlp_ratio) // 2, e.g. DINOv2-g:
                    int(1536 * 5.33334) = 8192 fc1 rows -> 4096)
  num_classes       classifier/projection outputs of the default tag (0: none)
  class_token, dist_token, reg_tokens   prefix tokens, in the order [cls][dist][reg...][patches]
  pos_embed         "all": the position table covers prefix tokens and patches (concatenate,
                    then add); "patches": patches only (add, then concatenate; timm
                    no_embed_class=True, DeiT-III, registers)
  patch_bias        1 if the patch conv has a bias (0 for CLIP-style towers with norm_pre)
  norm_pre          1: LayerNorm after the embeddings, before block 0 (timm norm_pre, CLIP ln_pre)
  final_norm        "pre_pool": LayerNorm over all tokens, then pool (timm norm, CLIP ln_post);
                    "post_pool": pool, then LayerNorm (timm fc_norm, open_clip
                    final_ln_after_pool); "none": no final norm
  layer_scale       1: per-channel gamma on both residual branches (timm ls1/ls2.gamma)
  qkv_bias, qk_norm 0/1
  activation        "gelu" (exact erf GELU) | "gelu_tanh" | "quick_gelu" (x * sigmoid(1.702 x))
                    | "swiglu" (see mlp_dim)
  swiglu_layout     "packed" | "split" (swiglu only)
  pooling           "cls": token 0; "avg": mean of the patch tokens (every prefix token
                    excluded); "map": one learned query attends over the patch tokens (prefix
                    excluded): q = latent Wq, k|v = tokens Wkv, num_heads heads, out proj, then
                    y = y + MLP(LN(y)) (timm AttentionPoolLatent, HF SigLIP pooling head);
                    "cls_avg": concat(cls, mean of patches) (DINOv2 linear heads; unused here)
  pool_mlp_dim, pool_activation   map only: the pooling MLP's hidden width and activation
                    (its LayerNorm uses layer_norm_eps)
  head              "none" | "linear" (classifier with bias: logits) | "projection" (CLIP image
                    projection to embed_dim: an embedding, not logits) | "distilled"
                    ((head(x[:, 0]) + head_dist(x[:, 1])) / 2 at inference)
  embed_dim         output width of a projection head (OpenCLIP: width of the image embedding)
  layer_norm_eps    eps of every LayerNorm in the model
  dynamic_img_size  1: timm builds the model with dynamic_img_size=True (pos table resampled to
                    the input grid at run time); 0: fixed size unless the user turns it on
  tag, tags         the default pretrained tag (None: no weights) and all tags, default first
  preprocess        dict(resize, resize_size, crop_size, interpolation, mean, std), after
                    scaling pixels to [0, 1]: resize "shorter" scales the shorter side to
                    resize_size keeping the aspect ratio; "exact" scales to resize_size x
                    resize_size; then a centre crop of crop_size (a no-op when equal)
  preprocess_by_tag, num_classes_by_tag   other tags whose values differ from the default's
  note              free text
timm arguments -> vocabulary: class_token -> class_token; reg_tokens -> reg_tokens;
  no_embed_class -> pos_embed "patches"; pre_norm -> norm_pre=1 and patch_bias=0 (timm builds the
  patch conv with bias=not pre_norm); init_values not None -> layer_scale; global_pool 'token' /
  'avg' / 'map' -> pooling "cls" / "avg" / "map"; use_fc_norm = global_pool in ('avg', 'avgmax',
  'max') if fc_norm is None else fc_norm -> final_norm "post_pool" when true, "pre_pool" when
  false, "none" when final_norm=False; act_layer None/'gelu' -> "gelu", 'gelu_tanh', 'quick_gelu';
  mlp_layer SwiGLUPacked / SwiGLU -> "swiglu" packed / split; norm_layer eps -> layer_norm_eps.
open_clip vision_cfg -> vocabulary: width, layers, width // head_width heads (head_width 64 by
  default), int(width * mlp_ratio); no_ln_pre -> norm_pre=0; final_ln_after_pool -> "post_pool";
  pool_type 'tok' / 'avg' -> "cls" / "avg"; quick_gelu -> "quick_gelu"; ls_init_value ->
  layer_scale; LayerNorm eps 1e-5; patch conv without bias; proj (width, embed_dim), no bias.
OPENCLIP entries also have: tower ("open_clip" | "timm:ARCH"), state_dict_prefix, proj_bias.
Every image size in these tables is square, so resize_size/crop_size are single lengths.
"""
import copy
import difflib

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
HALF = (0.5, 0.5, 0.5)  # timm IMAGENET_INCEPTION_MEAN/STD, open_clip INCEPTION_MEAN/STD
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)  # OpenAI CLIP / open_clip OPENAI_DATASET_MEAN
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
ZEROS = (0.0, 0.0, 0.0)
ONES = (1.0, 1.0, 1.0)


def _clip_preset(image_size=224):
    """OpenAI CLIP: shorter side to image_size (bicubic), centre crop image_size.

    HF CLIPImageProcessor: size={"shortest_edge": 224}, resample=BICUBIC, crop 224x224,
    OPENAI_CLIP_MEAN/STD. open_clip image_transform, resize_mode 'shortest' (its default):
    Resize(size, BICUBIC) + CenterCrop(size)."""
    return dict(resize="shorter", resize_size=image_size, crop_size=image_size,
                interpolation="bicubic", mean=CLIP_MEAN, std=CLIP_STD)


def _siglip_preset(image_size=224):
    """SigLIP: straight to image_size x image_size (aspect not kept), bicubic, no crop.

    HF SiglipImageProcessor: resize to (size["height"], size["width"]), resample default
    BICUBIC (convert_siglip_to_hf.py builds SiglipImageProcessor(size=...) with that default),
    mean = std = 0.5 (IMAGENET_STANDARD). open_clip's SigLIP tags (_slpcfg): mean = std = 0.5,
    bicubic, resize_mode 'squash' = Resize((size, size))."""
    return dict(resize="exact", resize_size=image_size, crop_size=image_size,
                interpolation="bicubic", mean=HALF, std=HALF)


def _dinov2_preset(image_size=224):
    """DINOv2 eval: shorter side to 256 (bicubic), centre crop 224, ImageNet mean/std.

    dinov2/data/transforms.py make_classification_eval_transform(resize_size=256,
    crop_size=224, interpolation=BICUBIC). Other sizes keep the 256/224 ratio (rounded)."""
    return dict(resize="shorter", resize_size=int(round(image_size * 256 / 224)),
                crop_size=image_size, interpolation="bicubic",
                mean=IMAGENET_MEAN, std=IMAGENET_STD)


PRESETS = {"clip": _clip_preset, "siglip": _siglip_preset, "dinov2": _dinov2_preset}


TIMM = {
    'deit3_base_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD),
        preprocess_by_tag={
            'fb_in22k_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        }),
    'deit3_base_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit3_huge_patch14_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD),
        preprocess_by_tag={
            'fb_in22k_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        }),
    'deit3_large_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD),
        preprocess_by_tag={
            'fb_in22k_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        }),
    'deit3_large_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit3_medium_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD),
        preprocess_by_tag={
            'fb_in22k_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        }),
    'deit3_small_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD),
        preprocess_by_tag={
            'fb_in22k_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        }),
    'deit3_small_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k',
        tags=('fb_in1k', 'fb_in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_base_distilled_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=1, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='distilled',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_base_distilled_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=1, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='distilled',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_base_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_base_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_small_distilled_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=1, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='distilled',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_small_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_tiny_distilled_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=192, num_layers=12, num_heads=3,
        mlp_dim=768, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=1, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='distilled',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'deit_tiny_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=192, num_layers=12, num_heads=3,
        mlp_dim=768, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='fb_in1k', tags=('fb_in1k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'eva_large_patch14_196': dict(
        patch_size=14, image_size=(196, 196), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='in22k_ft_in22k_in1k',
        tags=('in22k_ft_in22k_in1k', 'in22k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=196, crop_size=196, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'eva_large_patch14_336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='in22k_ft_in22k_in1k',
        tags=('in22k_ft_in22k_in1k', 'in22k_ft_in1k'),
        preprocess=dict(resize='exact', resize_size=336, crop_size=336, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'flexivit_base': dict(
        patch_size=16, image_size=(240, 240), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='1200ep_in1k',
        tags=(
            '1200ep_in1k', '600ep_in1k', '300ep_in1k', '1000ep_in21k', '300ep_in21k',
            'patch16_in21k', 'patch30_in21k'),
        preprocess=dict(resize='shorter', resize_size=252, crop_size=240, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            '1000ep_in21k': 21843,
            '300ep_in21k': 21843,
            'patch16_in21k': 21843,
            'patch30_in21k': 21843,
        }),
    'flexivit_large': dict(
        patch_size=16, image_size=(240, 240), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='1200ep_in1k',
        tags=('1200ep_in1k', '600ep_in1k', '300ep_in1k'),
        preprocess=dict(resize='shorter', resize_size=252, crop_size=240, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'flexivit_small': dict(
        patch_size=16, image_size=(240, 240), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='1200ep_in1k',
        tags=('1200ep_in1k', '600ep_in1k', '300ep_in1k'),
        preprocess=dict(resize='shorter', resize_size=252, crop_size=240, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'test_vit': dict(
        patch_size=16, image_size=(160, 160), hidden_size=64, num_layers=6, num_heads=2,
        mlp_dim=192, mlp_ratio=3.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=1, tag='r160_in1k', tags=('r160_in1k',),
        preprocess=dict(resize='shorter', resize_size=168, crop_size=160, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'test_vit2': dict(
        patch_size=16, image_size=(160, 160), hidden_size=64, num_layers=8, num_heads=2,
        mlp_dim=192, mlp_ratio=3.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=1,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=1, tag='r160_in1k', tags=('r160_in1k',),
        preprocess=dict(resize='shorter', resize_size=168, crop_size=160, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch14_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m', tags=('lvd142m',),
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_base_patch14_reg1_tipsv2': dict(
        patch_size=14, image_size=(448, 448), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=1,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='webli', tags=('webli',),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=ZEROS, std=ONES)),
    'vit_base_patch14_reg4_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m', tags=('lvd142m',),
        note="DINOv2's cls pos-embed is folded into cls_token by timm's checkpoint filter",
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_base_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg2_in21k_ft_in1k',
        tags=(
            'augreg2_in21k_ft_in1k', 'augreg_in21k_ft_in1k', 'orig_in21k_ft_in1k', 'augreg_in1k',
            'orig_in21k', 'augreg_in21k', 'sam_in1k', 'dino', 'mae'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'dino': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
            'mae': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        },
        num_classes_by_tag={
            'orig_in21k': 0,
            'augreg_in21k': 21843,
            'dino': 0,
            'mae': 0,
        }),
    'vit_base_patch16_224_miil': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=11221, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=0, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='in21k', tags=('in21k', 'in21k_ft_in1k'),
        preprocess=dict(resize='shorter', resize_size=256, crop_size=224, interpolation='bilinear',
                        mean=ZEROS, std=ONES),
        num_classes_by_tag={
            'in21k_ft_in1k': 1000,
        }),
    'vit_base_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'orig_in21k_ft_in1k', 'augreg_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_clip_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=(
            'laion2b_ft_in12k_in1k', 'openai_ft_in12k_in1k', 'laion2b_ft_in1k', 'openai_ft_in1k',
            'laion2b_ft_in12k', 'openai_ft_in12k', 'laion2b', 'laion400m_e32', 'datacompxl',
            'dfn2b', 'metaclip_2pt5b', 'metaclip_400m', 'openai'),
        preprocess=dict(resize='shorter', resize_size=235, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'laion2b_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai_ft_in1k': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'laion2b_ft_in12k': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai_ft_in12k': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'laion2b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'laion400m_e32': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'datacompxl': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'dfn2b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_2pt5b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_400m': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        },
        num_classes_by_tag={
            'laion2b_ft_in12k': 11821,
            'openai_ft_in12k': 11821,
            'laion2b': 512,
            'laion400m_e32': 512,
            'datacompxl': 512,
            'dfn2b': 512,
            'metaclip_2pt5b': 512,
            'metaclip_400m': 512,
            'openai': 512,
        }),
    'vit_base_patch16_clip_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=(
            'laion2b_ft_in12k_in1k', 'openai_ft_in12k_in1k', 'laion2b_ft_in1k', 'openai_ft_in1k'),
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'openai_ft_in12k_in1k': dict(
                resize='exact', resize_size=404, crop_size=384, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'vit_base_patch16_clip_quickgelu_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='metaclip_2pt5b',
        tags=('metaclip_2pt5b', 'metaclip_400m', 'openai'),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'openai': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'vit_base_patch16_gap_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=16,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_plus_240': dict(
        patch_size=16, image_size=(240, 240), hidden_size=896, num_layers=12, num_heads=14,
        mlp_dim=3584, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=252, crop_size=240, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_plus_clip_240': dict(
        patch_size=16, image_size=(240, 240), hidden_size=896, num_layers=12, num_heads=14,
        mlp_dim=3584, mlp_ratio=4.0, num_classes=640, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=640, layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion400m_e32',
        tags=('laion400m_e32',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=240, crop_size=240, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_base_patch16_reg4_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli', 'webli_i18n'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=568, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_gap_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli',
        tags=('v2_webli', 'webli', 'webli_i18n'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch16_siglip_gap_512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=568, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch32_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'augreg_in1k', 'orig_in21k', 'augreg_in21k', 'sam_in1k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'orig_in21k': 0,
            'augreg_in21k': 21843,
        }),
    'vit_base_patch32_384': dict(
        patch_size=32, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'augreg_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch32_clip_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=(
            'laion2b_ft_in12k_in1k', 'openai_ft_in12k_in1k', 'laion2b_ft_in1k', 'openai_ft_in1k',
            'laion2b', 'laion400m_e32', 'datacompxl', 'metaclip_2pt5b', 'metaclip_400m', 'openai'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'datacompxl': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_2pt5b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_400m': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        },
        num_classes_by_tag={
            'laion2b': 512,
            'laion400m_e32': 512,
            'datacompxl': 512,
            'metaclip_2pt5b': 512,
            'metaclip_400m': 512,
            'openai': 512,
        }),
    'vit_base_patch32_clip_256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='datacompxl',
        tags=('datacompxl',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_base_patch32_clip_384': dict(
        patch_size=32, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=('laion2b_ft_in12k_in1k', 'openai_ft_in12k_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'openai_ft_in12k_in1k': dict(
                resize='exact', resize_size=404, crop_size=384, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'vit_base_patch32_clip_448': dict(
        patch_size=32, image_size=(448, 448), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=('laion2b_ft_in12k_in1k',),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_base_patch32_clip_quickgelu_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion400m_e32',
        tags=('laion400m_e32', 'metaclip_2pt5b', 'metaclip_400m', 'openai'),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'metaclip_2pt5b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_400m': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'vit_base_patch32_plus_256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=896, num_layers=12, num_heads=14,
        mlp_dim=3584, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch32_siglip_256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch32_siglip_gap_256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_base_patch8_224': dict(
        patch_size=8, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg2_in21k_ft_in1k',
        tags=('augreg2_in21k_ft_in1k', 'augreg_in21k_ft_in1k', 'augreg_in21k', 'dino'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'dino': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        },
        num_classes_by_tag={
            'augreg_in21k': 21843,
            'dino': 0,
        }),
    'vit_betwixt_patch16_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=640, num_layers=12, num_heads=10,
        mlp_dim=2560, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=0, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_betwixt_patch16_reg1_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=640, num_layers=12, num_heads=10,
        mlp_dim=2560, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=1,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_in1k', tags=('sbb_in1k',),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_betwixt_patch16_reg4_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=640, num_layers=12, num_heads=10,
        mlp_dim=2560, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb2_e200_in12k_ft_in1k',
        tags=(
            'sbb2_e200_in12k_ft_in1k', 'sbb_in12k_ft_in1k', 'sbb_in1k', 'sbb2_e200_in12k',
            'sbb_in12k'),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'sbb2_e200_in12k': 11821,
            'sbb_in12k': 11821,
        }),
    'vit_betwixt_patch16_reg4_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=640, num_layers=12, num_heads=10,
        mlp_dim=2560, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb2_e200_in12k_ft_in1k',
        tags=('sbb2_e200_in12k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_betwixt_patch32_clip_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=640, num_layers=12, num_heads=10,
        mlp_dim=2560, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='tinyclip_laion400m',
        tags=('tinyclip_laion400m',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_giant_patch14_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1408, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.363636363636363, num_classes=1000, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_giant_patch14_clip_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1408, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.363636363636363, num_classes=1024, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls',
        head='projection', embed_dim=1024, layer_norm_eps=1e-5, dynamic_img_size=0,
        tag='laion2b', tags=('laion2b',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_giant_patch14_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=1536, num_layers=40, num_heads=24,
        mlp_dim=4096, mlp_ratio=5.33334, num_classes=0, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=1, qkv_bias=1, qk_norm=0, activation='swiglu', swiglu_layout='packed',
        pooling='cls', head='none', layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m',
        tags=('lvd142m',),
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_giant_patch14_reg1_tipsv2': dict(
        patch_size=14, image_size=(448, 448), hidden_size=1536, num_layers=40, num_heads=24,
        mlp_dim=4096, mlp_ratio=5.33334, num_classes=0, class_token=1, dist_token=0,
        reg_tokens=1, pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=1, qkv_bias=1, qk_norm=0, activation='swiglu', swiglu_layout='packed',
        pooling='cls', head='none', layer_norm_eps=1e-6, dynamic_img_size=0, tag='webli',
        tags=('webli',),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=ZEROS, std=ONES)),
    'vit_giant_patch14_reg4_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=1536, num_layers=40, num_heads=24,
        mlp_dim=4096, mlp_ratio=5.33334, num_classes=0, class_token=1, dist_token=0,
        reg_tokens=4, pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=1, qkv_bias=1, qk_norm=0, activation='swiglu', swiglu_layout='packed',
        pooling='cls', head='none', layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m',
        tags=('lvd142m',),
        note="DINOv2's cls pos-embed is folded into cls_token by timm's checkpoint filter",
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_giant_patch16_gap_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=1408, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.363636363636363, num_classes=0, class_token=0, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='in22k_ijepa', tags=('in22k_ijepa',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_giantopt_patch16_siglip_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1536, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=6144,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_giantopt_patch16_siglip_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1536, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=6144,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_giantopt_patch16_siglip_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1536, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_giantopt_patch16_siglip_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1536, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_gigantic_patch14_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.923076923076923, num_classes=1000, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_gigantic_patch14_clip_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.923076923076923, num_classes=1280, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls',
        head='projection', embed_dim=1280, layer_norm_eps=1e-5, dynamic_img_size=0,
        tag='laion2b', tags=('laion2b', 'metaclip2_worldwide', 'metaclip_2pt5b'),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_gigantic_patch14_clip_378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.923076923076923, num_classes=1280, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls',
        head='projection', embed_dim=1280, layer_norm_eps=1e-5, dynamic_img_size=0,
        tag='metaclip2_worldwide', tags=('metaclip2_worldwide',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_gigantic_patch14_clip_quickgelu_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.923076923076923, num_classes=1280, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls',
        head='projection', embed_dim=1280, layer_norm_eps=1e-5, dynamic_img_size=0,
        tag='metaclip_2pt5b', tags=('metaclip_2pt5b',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_huge_patch14_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='orig_in21k',
        tags=('orig_in21k', 'untrained', 'mae'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'mae': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        },
        num_classes_by_tag={
            'untrained': 1000,
        }),
    'vit_huge_patch14_clip_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=(
            'laion2b_ft_in12k_in1k', 'laion2b_ft_in1k', 'laion2b_ft_in12k', 'laion2b', 'dfn5b',
            'metaclip2_worldwide', 'metaclip_2pt5b', 'metaclip_altogether'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        num_classes_by_tag={
            'laion2b_ft_in12k': 11821,
            'laion2b': 1024,
            'dfn5b': 1024,
            'metaclip2_worldwide': 1024,
            'metaclip_2pt5b': 1024,
            'metaclip_altogether': 1024,
        }),
    'vit_huge_patch14_clip_336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=('laion2b_ft_in12k_in1k', 'laion2b_ft_in1k'),
        preprocess=dict(resize='exact', resize_size=336, crop_size=336, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_huge_patch14_clip_378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=1024, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, layer_norm_eps=1e-5, dynamic_img_size=0, tag='dfn5b',
        tags=('dfn5b', 'metaclip2_worldwide'),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'metaclip2_worldwide': dict(
                resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'vit_huge_patch14_clip_quickgelu_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=1024, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=1024, layer_norm_eps=1e-5, dynamic_img_size=0, tag='dfn5b',
        tags=('dfn5b', 'metaclip2_worldwide', 'metaclip_2pt5b'),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_huge_patch14_clip_quickgelu_378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=1024, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=1024, layer_norm_eps=1e-5, dynamic_img_size=0, tag='dfn5b', tags=('dfn5b',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_huge_patch14_gap_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='in1k_ijepa',
        tags=('in1k_ijepa', 'in22k_ijepa'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_huge_patch16_gap_448': dict(
        patch_size=16, image_size=(448, 448), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='in1k_ijepa', tags=('in1k_ijepa',),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_intern300m_patch14_448': dict(
        patch_size=14, image_size=(448, 448), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='none', layer_scale=1, qkv_bias=1,
        qk_norm=0, activation='gelu', pooling='cls', head='none', layer_norm_eps=1e-6,
        dynamic_img_size=1, tag='ogvl_dist', tags=('ogvl_dist', 'ogvl_2pt5'),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_large_patch14_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch14_clip_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=(
            'laion2b_ft_in12k_in1k', 'openai_ft_in12k_in1k', 'laion2b_ft_in1k', 'openai_ft_in1k',
            'laion2b_ft_in12k', 'openai_ft_in12k', 'laion2b', 'laion400m_e32', 'datacompxl',
            'dfn2b_s39b', 'dfn2b', 'metaclip_2pt5b', 'metaclip_400m', 'openai',
            'apple_mclip2_dfndr2b'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'openai_ft_in12k_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai_ft_in1k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai_ft_in12k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'laion400m_e32': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'datacompxl': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'dfn2b_s39b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'dfn2b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_2pt5b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'metaclip_400m': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'apple_mclip2_dfndr2b': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        },
        num_classes_by_tag={
            'laion2b_ft_in12k': 11821,
            'openai_ft_in12k': 11821,
            'laion2b': 768,
            'laion400m_e32': 768,
            'datacompxl': 768,
            'dfn2b_s39b': 768,
            'dfn2b': 768,
            'metaclip_2pt5b': 768,
            'metaclip_400m': 768,
            'openai': 768,
            'apple_mclip2_dfndr2b': 768,
        }),
    'vit_large_patch14_clip_336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-5, dynamic_img_size=0, tag='laion2b_ft_in12k_in1k',
        tags=('laion2b_ft_in12k_in1k', 'openai_ft_in12k_in1k', 'laion2b_ft_in1k', 'openai'),
        preprocess=dict(resize='exact', resize_size=336, crop_size=336, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'openai_ft_in12k_in1k': dict(
                resize='exact', resize_size=336, crop_size=336, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
            'openai': dict(
                resize='shorter', resize_size=336, crop_size=336, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        },
        num_classes_by_tag={
            'openai': 768,
        }),
    'vit_large_patch14_clip_quickgelu_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=768, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=768, layer_norm_eps=1e-5, dynamic_img_size=0, tag='dfn2b',
        tags=('dfn2b', 'metaclip_2pt5b', 'metaclip_400m', 'openai'),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_large_patch14_clip_quickgelu_336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=768, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=768, layer_norm_eps=1e-5, dynamic_img_size=0, tag='openai', tags=('openai',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=336, crop_size=336, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_large_patch14_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m', tags=('lvd142m',),
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_large_patch14_reg1_tipsv2': dict(
        patch_size=14, image_size=(448, 448), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=1,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='webli', tags=('webli',),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=ZEROS, std=ONES)),
    'vit_large_patch14_reg4_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m', tags=('lvd142m',),
        note="DINOv2's cls pos-embed is folded into cls_token by timm's checkpoint filter",
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_large_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'orig_in21k', 'augreg_in21k', 'mae'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'mae': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        },
        num_classes_by_tag={
            'orig_in21k': 0,
            'augreg_in21k': 21843,
            'mae': 0,
        }),
    'vit_large_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch16_siglip_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch16_siglip_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch16_siglip_512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=568, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch16_siglip_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch16_siglip_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch16_siglip_gap_512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=568, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch32_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='orig_in21k', tags=('orig_in21k',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_large_patch32_384': dict(
        patch_size=32, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='orig_in21k_ft_in1k',
        tags=('orig_in21k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_little_patch16_reg1_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=320, num_layers=14, num_heads=5,
        mlp_dim=1792, mlp_ratio=5.6, num_classes=1000, class_token=0, dist_token=0, reg_tokens=1,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_in12k_ft_in1k',
        tags=('sbb_in12k_ft_in1k', 'sbb_in12k'),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'sbb_in12k': 11821,
        }),
    'vit_little_patch16_reg4_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=320, num_layers=14, num_heads=5,
        mlp_dim=1792, mlp_ratio=5.6, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_in1k', tags=('sbb_in1k',),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_medium_patch16_clip_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='tinyclip_yfcc15m',
        tags=('tinyclip_yfcc15m',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_medium_patch16_gap_240': dict(
        patch_size=16, image_size=(240, 240), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=11821, class_token=0, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=1, qkv_bias=0, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sw_in12k', tags=('sw_in12k',),
        preprocess=dict(resize='shorter', resize_size=252, crop_size=240, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_medium_patch16_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=0, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sw_in12k_ft_in1k',
        tags=('sw_in12k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_medium_patch16_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=0, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sw_in12k_ft_in1k',
        tags=('sw_in12k_ft_in1k',),
        preprocess=dict(resize='exact', resize_size=404, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_medium_patch16_reg1_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=1,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_in1k', tags=('sbb_in1k',),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_medium_patch16_reg4_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_in12k_ft_in1k',
        tags=('sbb_in12k_ft_in1k', 'sbb_in1k', 'sbb_in12k'),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'sbb_in12k': 11821,
        }),
    'vit_medium_patch32_clip_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='tinyclip_laion400m',
        tags=('tinyclip_laion400m',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'vit_mediumd_patch16_reg4_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=512, num_layers=20, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb2_e200_in12k_ft_in1k',
        tags=('sbb2_e200_in12k_ft_in1k', 'sbb_in12k_ft_in1k', 'sbb2_e200_in12k', 'sbb_in12k'),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'sbb2_e200_in12k': 11821,
            'sbb_in12k': 11821,
        }),
    'vit_mediumd_patch16_reg4_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=512, num_layers=20, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb2_e200_in12k_ft_in1k',
        tags=('sbb2_e200_in12k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_small_patch14_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m', tags=('lvd142m',),
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_small_patch14_reg4_dinov2': dict(
        patch_size=14, image_size=(518, 518), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=4,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='lvd142m', tags=('lvd142m',),
        note="DINOv2's cls pos-embed is folded into cls_token by timm's checkpoint filter",
        preprocess=dict(resize='shorter', resize_size=518, crop_size=518, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_small_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'augreg_in1k', 'augreg_in21k', 'dino'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'dino': dict(
                resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                mean=IMAGENET_MEAN, std=IMAGENET_STD),
        },
        num_classes_by_tag={
            'augreg_in21k': 21843,
            'dino': 0,
        }),
    'vit_small_patch16_36x1_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=36, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_small_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'augreg_in1k'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_small_patch32_224': dict(
        patch_size=32, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'augreg_in21k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'augreg_in21k': 21843,
        }),
    'vit_small_patch32_384': dict(
        patch_size=32, image_size=(384, 384), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_small_patch8_224': dict(
        patch_size=8, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='dino', tags=('dino',),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'vit_so150m2_patch16_reg1_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=832, num_layers=21, num_heads=13,
        mlp_dim=2176, mlp_ratio=2.6153846153846154, num_classes=1000, class_token=0,
        dist_token=0, reg_tokens=1, pos_embed='all', patch_bias=1, norm_pre=0,
        final_norm='post_pool', layer_scale=1, qkv_bias=0, qk_norm=0, activation='gelu',
        pooling='avg', head='linear', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='sbb_e200_in12k_ft_in1k', tags=('sbb_e200_in12k_ft_in1k', 'sbb_e200_in12k'),
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'sbb_e200_in12k': 11821,
        }),
    'vit_so150m2_patch16_reg1_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=832, num_layers=21, num_heads=13,
        mlp_dim=2176, mlp_ratio=2.6153846153846154, num_classes=1000, class_token=0,
        dist_token=0, reg_tokens=1, pos_embed='all', patch_bias=1, norm_pre=0,
        final_norm='post_pool', layer_scale=1, qkv_bias=0, qk_norm=0, activation='gelu',
        pooling='avg', head='linear', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='sbb_e200_in12k_ft_in1k', tags=('sbb_e200_in12k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so150m2_patch16_reg1_gap_448': dict(
        patch_size=16, image_size=(448, 448), hidden_size=832, num_layers=21, num_heads=13,
        mlp_dim=2176, mlp_ratio=2.6153846153846154, num_classes=1000, class_token=0,
        dist_token=0, reg_tokens=1, pos_embed='all', patch_bias=1, norm_pre=0,
        final_norm='post_pool', layer_scale=1, qkv_bias=0, qk_norm=0, activation='gelu',
        pooling='avg', head='linear', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='sbb_e200_in12k_ft_in1k', tags=('sbb_e200_in12k_ft_in1k',),
        preprocess=dict(resize='exact', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so150m_patch16_reg4_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=896, num_layers=18, num_heads=14,
        mlp_dim=2304, mlp_ratio=2.572, num_classes=1000, class_token=0, dist_token=0,
        reg_tokens=4, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_e250_in12k_ft_in1k',
        tags=('sbb_e250_in12k_ft_in1k', 'sbb_e250_in12k'),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'sbb_e250_in12k': 11821,
        }),
    'vit_so150m_patch16_reg4_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=896, num_layers=18, num_heads=14,
        mlp_dim=2304, mlp_ratio=2.572, num_classes=1000, class_token=0, dist_token=0,
        reg_tokens=4, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_e250_in12k_ft_in1k',
        tags=('sbb_e250_in12k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so150m_patch16_reg4_map_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=896, num_layers=18, num_heads=14,
        mlp_dim=2304, mlp_ratio=2.572, num_classes=1000, class_token=0, dist_token=0,
        reg_tokens=4, pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='map',
        pool_mlp_dim=2304, pool_activation='gelu', head='linear', layer_norm_eps=1e-6,
        dynamic_img_size=0, tag=None, tags=(),
        note='no pretrained weights in timm (untrained default cfg)',
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch14_reg1_tipsv2': dict(
        patch_size=14, image_size=(448, 448), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.736111111111111, num_classes=0, class_token=1, dist_token=0,
        reg_tokens=1, pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='pre_pool',
        layer_scale=1, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='webli', tags=('webli',),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=ZEROS, std=ONES)),
    'vit_so400m_patch14_siglip_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch14_siglip_378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli', 'webli_ft_in1k'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=420, crop_size=378, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'webli_ft_in1k': dict(
                resize='exact', resize_size=378, crop_size=378, interpolation='bicubic', mean=HALF,
                std=HALF),
        },
        num_classes_by_tag={
            'webli_ft_in1k': 1000,
        }),
    'vit_so400m_patch14_siglip_384': dict(
        patch_size=14, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='webli', tags=('webli',),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh; 384 is not '
            'a multiple of 14: grid 27x27 (floor), the patch conv never sees the last 6 '
            'rows/columns'),
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch14_siglip_gap_224': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli',
        tags=('v2_webli', 'webli', 'pali_mix', 'pali_pt', 'pali2_3b_pt', 'pali2_10b_pt'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch14_siglip_gap_378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli',
        tags=('v2_webli', 'webli', 'webli_ft_in1k'),
        note=(
            "timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size; "
            'timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=420, crop_size=378, interpolation='bicubic',
                        mean=HALF, std=HALF),
        preprocess_by_tag={
            'webli': dict(
                resize='shorter', resize_size=378, crop_size=378, interpolation='bicubic',
                mean=HALF, std=HALF),
            'webli_ft_in1k': dict(
                resize='exact', resize_size=378, crop_size=378, interpolation='bicubic', mean=HALF,
                std=HALF),
        },
        num_classes_by_tag={
            'webli_ft_in1k': 1000,
        }),
    'vit_so400m_patch14_siglip_gap_384': dict(
        patch_size=14, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='webli', tags=('webli',),
        note=(
            "timm's cfg (crop_pct 1, centre crop) differs from SigLIP's own resize-to-size; timm "
            'builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh; 384 is not a '
            'multiple of 14: grid 27x27 (floor), the patch conv never sees the last 6 '
            'rows/columns'),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch14_siglip_gap_448': dict(
        patch_size=14, image_size=(448, 448), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='pali_mix',
        tags=(
            'pali_mix', 'pali_pt', 'pali_refcoco_seg', 'pali_ocrvqa', 'pali2_3b_pt',
            'pali2_10b_pt', 'pali2_3b_docci', 'pali2_10b_docci'),
        note=(
            "timm's cfg (crop_pct 1, centre crop) differs from SigLIP's own resize-to-size; timm "
            'builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=448, crop_size=448, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch14_siglip_gap_896': dict(
        patch_size=14, image_size=(896, 896), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='pali_pt',
        tags=('pali_pt', 'pali_refcoco_seg', 'pali_ocrvqa', 'pali2_3b_pt', 'pali2_10b_pt'),
        note=(
            "timm's cfg (crop_pct 1, centre crop) differs from SigLIP's own resize-to-size; timm "
            'builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh'),
        preprocess=dict(resize='shorter', resize_size=896, crop_size=896, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch16_siglip_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli', 'webli_i18n'),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch16_siglip_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch16_siglip_512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', layer_norm_eps=1e-6, dynamic_img_size=0,
        tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=568, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch16_siglip_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli', 'webli_i18n'),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=284, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch16_siglip_gap_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=426, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_so400m_patch16_siglip_gap_512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='avg', head='none',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='v2_webli', tags=('v2_webli',),
        note="timm's cfg (crop_pct 0.9, centre crop) differs from SigLIP's own resize-to-size",
        preprocess=dict(resize='shorter', resize_size=568, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_tiny_patch16_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=192, num_layers=12, num_heads=3,
        mlp_dim=768, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k', 'augreg_in21k'),
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF),
        num_classes_by_tag={
            'augreg_in21k': 21843,
        }),
    'vit_tiny_patch16_384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=192, num_layers=12, num_heads=3,
        mlp_dim=768, mlp_ratio=4.0, num_classes=1000, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='augreg_in21k_ft_in1k',
        tags=('augreg_in21k_ft_in1k',),
        preprocess=dict(resize='shorter', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_wee_patch16_reg1_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=256, num_layers=14, num_heads=4,
        mlp_dim=1280, mlp_ratio=5.0, num_classes=1000, class_token=0, dist_token=0, reg_tokens=1,
        pos_embed='patches', patch_bias=1, norm_pre=0, final_norm='post_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='linear',
        layer_norm_eps=1e-6, dynamic_img_size=0, tag='sbb_in1k', tags=('sbb_in1k',),
        preprocess=dict(resize='shorter', resize_size=269, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_xsmall_patch16_clip_224': dict(
        patch_size=16, image_size=(224, 224), hidden_size=256, num_layers=10, num_heads=4,
        mlp_dim=1024, mlp_ratio=4.0, num_classes=512, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, layer_norm_eps=1e-5, dynamic_img_size=0, tag='tinyclip_yfcc15m',
        tags=('tinyclip_yfcc15m',),
        note='CLIP image projection stored as head.weight with a zero head.bias',
        preprocess=dict(resize='shorter', resize_size=248, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
}


OPENCLIP = {
    'coca_base': dict(
        patch_size=18, image_size=(288, 288), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note=(
            "no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default; "
            'CoCa model: only the contrastive image embedding is covered'),
        preprocess=dict(resize='shorter', resize_size=288, crop_size=288, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'coca_roberta-ViT-B-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note=(
            "no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default; "
            'CoCa model: only the contrastive image embedding is covered'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'gte-modernbert-base-ViT-B-32-256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'MobileCLIP2-L-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='timm:vit_large_patch14_clip_224',
        state_dict_prefix='visual.trunk.', tag='dfndr2b', tags=('dfndr2b',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'moderntext-ViT-B-32-256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'mt5-base-ViT-B-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'mt5-xl-ViT-H-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'nllb-clip-base': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='v1', tags=('v1',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'nllb-clip-base-siglip': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_384', state_dict_prefix='visual.trunk.', tag='v1',
        tags=('v1', 'mrl'),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'nllb-clip-large': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='v1', tags=('v1',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'nllb-clip-large-siglip': dict(
        patch_size=14, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', embed_dim=1152, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_so400m_patch14_siglip_384', state_dict_prefix='visual.trunk.', tag='v1',
        tags=('v1', 'mrl'),
        note=(
            '384 is not a multiple of 14: grid 27x27 (floor), the patch conv never sees the last '
            '6 rows/columns; timm builds this arch with exact GELU; HF SigLIP uses '
            'gelu_pytorch_tanh'),
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'roberta-ViT-B-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion2b_s12b_b32k', tags=('laion2b_s12b_b32k',),
        note=(
            'tags laion2b_s12b_b32k were trained with gelu (open_clip only warns): use the plain '
            'name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-16': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai',
        tags=(
            'openai', 'laion400m_e31', 'laion400m_e32', 'laion2b_s34b_b88k',
            'datacomp_xl_s13b_b90k', 'datacomp_l_s1b_b8k', 'commonpool_l_clip_s1b_b8k',
            'commonpool_l_laion_s1b_b8k', 'commonpool_l_image_s1b_b8k',
            'commonpool_l_text_s1b_b8k', 'commonpool_l_basic_s1b_b8k', 'commonpool_l_s1b_b8k',
            'dfn2b', 'metaclip_400m', 'metaclip_fullcc'),
        note=(
            'tags openai, dfn2b, metaclip_400m, metaclip_fullcc were trained with quick_gelu '
            '(open_clip only warns): use the -quickgelu name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-16-plus': dict(
        patch_size=16, image_size=(224, 224), hidden_size=896, num_layers=12, num_heads=14,
        mlp_dim=3584, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=640, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-16-plus-240': dict(
        patch_size=16, image_size=(240, 240), hidden_size=896, num_layers=12, num_heads=14,
        mlp_dim=3584, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=640, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion400m_e31', tags=('laion400m_e31', 'laion400m_e32'),
        preprocess=dict(resize='shorter', resize_size=240, crop_size=240, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-16-quickgelu': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai',
        tags=('openai', 'dfn2b', 'metaclip_400m', 'metaclip_fullcc'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-16-SigLIP': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_224', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_256', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP-384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_384', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP-512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_512', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=512, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP-i18n-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_256', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP2': dict(
        patch_size=16, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_224', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP2-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_256', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP2-384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_384', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-16-SigLIP2-512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu', head='none', embed_dim=768, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_base_patch16_siglip_512', state_dict_prefix='visual.trunk.', tag='webli',
        tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=512, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-B-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai',
        tags=(
            'openai', 'laion400m_e31', 'laion400m_e32', 'laion2b_e16', 'laion2b_s34b_b79k',
            'datacomp_xl_s13b_b90k', 'datacomp_m_s128m_b4k', 'commonpool_m_clip_s128m_b4k',
            'commonpool_m_laion_s128m_b4k', 'commonpool_m_image_s128m_b4k',
            'commonpool_m_text_s128m_b4k', 'commonpool_m_basic_s128m_b4k',
            'commonpool_m_s128m_b4k', 'datacomp_s_s13m_b4k', 'commonpool_s_clip_s13m_b4k',
            'commonpool_s_laion_s13m_b4k', 'commonpool_s_image_s13m_b4k',
            'commonpool_s_text_s13m_b4k', 'commonpool_s_basic_s13m_b4k', 'commonpool_s_s13m_b4k',
            'metaclip_400m', 'metaclip_fullcc'),
        note=(
            'tags openai, laion400m_e31, laion400m_e32, metaclip_400m, metaclip_fullcc were '
            'trained with quick_gelu (open_clip only warns): use the -quickgelu name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-32-256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='datacomp_s34b_b86k', tags=('datacomp_s34b_b86k',),
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-32-plus-256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=896, num_layers=12, num_heads=14,
        mlp_dim=3584, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=640, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-32-quickgelu': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai',
        tags=('openai', 'laion400m_e31', 'laion400m_e32', 'metaclip_400m', 'metaclip_fullcc'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-B-32-SigLIP2-256': dict(
        patch_size=32, image_size=(256, 256), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=3072,
        pool_activation='gelu_tanh', head='none', embed_dim=768, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_base_patch32_siglip_256',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-bigG-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.9231, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion2b_s39b_b160k',
        tags=('laion2b_s39b_b160k', 'metaclip_fullcc'),
        note=(
            'tags metaclip_fullcc were trained with quick_gelu (open_clip only warns): use the '
            '-quickgelu name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-bigG-14-CLIPA': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.9231, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='datacomp1b', tags=('datacomp1b',),
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bilinear',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'ViT-bigG-14-CLIPA-336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.9231, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='datacomp1b', tags=('datacomp1b',),
        preprocess=dict(resize='exact', resize_size=336, crop_size=336, interpolation='bilinear',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'ViT-bigG-14-quickgelu': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.9231, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip_fullcc', tags=('metaclip_fullcc',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-bigG-14-worldwide': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.9231, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip2_worldwide', tags=('metaclip2_worldwide',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-bigG-14-worldwide-378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1664, num_layers=48, num_heads=16,
        mlp_dim=8192, mlp_ratio=4.9231, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip2_worldwide', tags=('metaclip2_worldwide',),
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-e-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1792, num_layers=56, num_heads=16,
        mlp_dim=15360, mlp_ratio=8.5715, num_classes=0, class_token=1, dist_token=0,
        reg_tokens=0, pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool',
        layer_scale=0, qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls',
        head='projection', embed_dim=1280, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-g-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1408, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.3637, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion2b_s12b_b42k',
        tags=('laion2b_s12b_b42k', 'laion2b_s34b_b88k'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-gopt-16-SigLIP2-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1536, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=6144,
        pool_activation='gelu_tanh', head='none', embed_dim=1536, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_giantopt_patch16_siglip_256',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-gopt-16-SigLIP2-384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1536, num_layers=40, num_heads=16,
        mlp_dim=6144, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=6144,
        pool_activation='gelu_tanh', head='none', embed_dim=1536, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_giantopt_patch16_siglip_384',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-H-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion2b_s32b_b79k',
        tags=('laion2b_s32b_b79k', 'metaclip_fullcc', 'metaclip_altogether', 'dfn5b'),
        note=(
            'tags metaclip_fullcc, dfn5b were trained with quick_gelu (open_clip only warns): use '
            'the -quickgelu name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'dfn5b': dict(
                resize='exact', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'ViT-H-14-378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='dfn5b', tags=('dfn5b',),
        note=(
            'tags dfn5b were trained with quick_gelu (open_clip only warns): use the -quickgelu '
            'name for them'),
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-H-14-378-quickgelu': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='dfn5b', tags=('dfn5b',),
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-H-14-CLIPA': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='datacomp1b', tags=('datacomp1b',),
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bilinear',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'ViT-H-14-CLIPA-336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion2b', tags=('laion2b', 'datacomp1b'),
        preprocess=dict(resize='exact', resize_size=336, crop_size=336, interpolation='bilinear',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'ViT-H-14-quickgelu': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip_fullcc', tags=('metaclip_fullcc', 'dfn5b'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'dfn5b': dict(
                resize='exact', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=CLIP_MEAN, std=CLIP_STD),
        }),
    'ViT-H-14-worldwide': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip2_worldwide', tags=('metaclip2_worldwide',),
        note=(
            'tags metaclip2_worldwide were trained with quick_gelu (open_clip only warns): use '
            'the -quickgelu name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-H-14-worldwide-378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip2_worldwide', tags=('metaclip2_worldwide',),
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-H-14-worldwide-quickgelu': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='metaclip2_worldwide', tags=('metaclip2_worldwide',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-H-16': dict(
        patch_size=16, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai',
        tags=(
            'openai', 'laion400m_e31', 'laion400m_e32', 'laion2b_s32b_b82k',
            'datacomp_xl_s13b_b90k', 'commonpool_xl_clip_s13b_b90k',
            'commonpool_xl_laion_s13b_b90k', 'commonpool_xl_s13b_b90k', 'metaclip_400m',
            'metaclip_fullcc', 'dfn2b', 'dfn2b_s39b'),
        note=(
            'tags openai, metaclip_400m, metaclip_fullcc, dfn2b were trained with quick_gelu '
            '(open_clip only warns): use the -quickgelu name for them'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD),
        preprocess_by_tag={
            'laion2b_s32b_b82k': dict(
                resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                mean=HALF, std=HALF),
        }),
    'ViT-L-14-280': dict(
        patch_size=14, image_size=(280, 280), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=280, crop_size=280, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-14-336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai', tags=('openai',),
        note=(
            'tags openai were trained with quick_gelu (open_clip only warns): use the -quickgelu '
            'name for them'),
        preprocess=dict(resize='shorter', resize_size=336, crop_size=336, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-14-336-quickgelu': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai', tags=('openai',),
        preprocess=dict(resize='shorter', resize_size=336, crop_size=336, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-14-CLIPA': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='datacomp1b', tags=('datacomp1b',),
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bilinear',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'ViT-L-14-CLIPA-336': dict(
        patch_size=14, image_size=(336, 336), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=0, final_norm='post_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='datacomp1b', tags=('datacomp1b',),
        preprocess=dict(resize='exact', resize_size=336, crop_size=336, interpolation='bilinear',
                        mean=IMAGENET_MEAN, std=IMAGENET_STD)),
    'ViT-L-14-quickgelu': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='openai',
        tags=('openai', 'metaclip_400m', 'metaclip_fullcc', 'dfn2b'),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-14-worldwide': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-14-worldwide-quickgelu': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='quick_gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-16': dict(
        patch_size=16, image_size=(224, 224), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-16-320': dict(
        patch_size=16, image_size=(320, 320), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=768, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=320, crop_size=320, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-L-16-SigLIP-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu', head='none', embed_dim=1024, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_large_patch16_siglip_256', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-L-16-SigLIP-384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu', head='none', embed_dim=1024, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_large_patch16_siglip_384', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-L-16-SigLIP2-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu', head='none', embed_dim=1024, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_large_patch16_siglip_256', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-L-16-SigLIP2-384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu', head='none', embed_dim=1024, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_large_patch16_siglip_384', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-L-16-SigLIP2-512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=1024, num_layers=24, num_heads=16,
        mlp_dim=4096, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4096,
        pool_activation='gelu_tanh', head='none', embed_dim=1024, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_large_patch16_siglip_512',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=512, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-M-16': dict(
        patch_size=16, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-M-16-alt': dict(
        patch_size=16, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=1,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=384, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-M-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-M-32-alt': dict(
        patch_size=32, image_size=(224, 224), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=384, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-S-16': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=384, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-S-16-alt': dict(
        patch_size=16, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=256, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-S-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=384, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-S-32-alt': dict(
        patch_size=32, image_size=(224, 224), hidden_size=384, num_layers=12, num_heads=6,
        mlp_dim=1536, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=256, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'ViT-SO400M-14-SigLIP': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', embed_dim=1152, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_so400m_patch14_siglip_224', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-14-SigLIP-378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', embed_dim=1152, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_so400m_patch14_siglip_378', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-14-SigLIP-384': dict(
        patch_size=14, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', embed_dim=1152, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_so400m_patch14_siglip_384', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note=(
            '384 is not a multiple of 14: grid 27x27 (floor), the patch conv never sees the last '
            '6 rows/columns; timm builds this arch with exact GELU; HF SigLIP uses '
            'gelu_pytorch_tanh'),
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-14-SigLIP2': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', embed_dim=1152, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_so400m_patch14_siglip_224', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-14-SigLIP2-378': dict(
        patch_size=14, image_size=(378, 378), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu', head='none', embed_dim=1152, proj_bias=0, layer_norm_eps=1e-6,
        tower='timm:vit_so400m_patch14_siglip_378', state_dict_prefix='visual.trunk.',
        tag='webli', tags=('webli',),
        note='timm builds this arch with exact GELU; HF SigLIP uses gelu_pytorch_tanh',
        preprocess=dict(resize='exact', resize_size=378, crop_size=378, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-16-SigLIP-i18n-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', embed_dim=1152, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_so400m_patch16_siglip_256',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-16-SigLIP2-256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', embed_dim=1152, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_so400m_patch16_siglip_256',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-16-SigLIP2-384': dict(
        patch_size=16, image_size=(384, 384), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', embed_dim=1152, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_so400m_patch16_siglip_384',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=384, crop_size=384, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'ViT-SO400M-16-SigLIP2-512': dict(
        patch_size=16, image_size=(512, 512), hidden_size=1152, num_layers=27, num_heads=16,
        mlp_dim=4304, mlp_ratio=3.7362, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu_tanh', pooling='map', pool_mlp_dim=4304,
        pool_activation='gelu_tanh', head='none', embed_dim=1152, proj_bias=0,
        layer_norm_eps=1e-6, tower='timm:vit_so400m_patch16_siglip_512',
        state_dict_prefix='visual.trunk.', tag='webli', tags=('webli',),
        preprocess=dict(resize='exact', resize_size=512, crop_size=512, interpolation='bicubic',
                        mean=HALF, std=HALF)),
    'vit_medium_patch16_gap_256': dict(
        patch_size=16, image_size=(256, 256), hidden_size=512, num_layers=12, num_heads=8,
        mlp_dim=2048, mlp_ratio=4.0, num_classes=0, class_token=0, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=1, norm_pre=0, final_norm='pre_pool', layer_scale=1,
        qkv_bias=0, qk_norm=0, activation='gelu', pooling='avg', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-6, tower='timm:vit_medium_patch16_gap_256',
        state_dict_prefix='visual.trunk.', tag=None, tags=(),
        note="no pretrained tag in open_clip; preprocessing is open_clip's PreprocessCfg default",
        preprocess=dict(resize='shorter', resize_size=256, crop_size=256, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'xlm-roberta-base-ViT-B-32': dict(
        patch_size=32, image_size=(224, 224), hidden_size=768, num_layers=12, num_heads=12,
        mlp_dim=3072, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=512, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='laion5b_s13b_b90k', tags=('laion5b_s13b_b90k',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
    'xlm-roberta-large-ViT-H-14': dict(
        patch_size=14, image_size=(224, 224), hidden_size=1280, num_layers=32, num_heads=16,
        mlp_dim=5120, mlp_ratio=4.0, num_classes=0, class_token=1, dist_token=0, reg_tokens=0,
        pos_embed='all', patch_bias=0, norm_pre=1, final_norm='pre_pool', layer_scale=0,
        qkv_bias=1, qk_norm=0, activation='gelu', pooling='cls', head='projection',
        embed_dim=1024, proj_bias=0, layer_norm_eps=1e-5, tower='open_clip',
        state_dict_prefix='visual.', tag='frozen_laion5b_s13b_b90k',
        tags=('frozen_laion5b_s13b_b90k',),
        preprocess=dict(resize='shorter', resize_size=224, crop_size=224, interpolation='bicubic',
                        mean=CLIP_MEAN, std=CLIP_STD)),
}


SKIPPED = {
    'aimv2_1b_patch14_224':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_1b_patch14_336':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_1b_patch14_448':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_3b_patch14_224':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_3b_patch14_336':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_3b_patch14_448':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_huge_patch14_224':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_huge_patch14_336':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_huge_patch14_448':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_large_patch14_224':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_large_patch14_336':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'aimv2_large_patch14_448':
        'timm: norm inside the patch embedding; attention output projection without bias; '
        'RMSNorm instead of LayerNorm; also split SwiGLU MLP (fc1_g/fc1_x), no qkv bias',
    'beit3_base_patch16_224':
        'timm: extra LayerNorm inside attention before the output projection (scale_attn_norm); '
        'extra LayerNorm inside the MLP (scale_mlp_norm)',
    'beit3_giant_patch14_224':
        'timm: extra LayerNorm inside attention before the output projection (scale_attn_norm); '
        'extra LayerNorm inside the MLP (scale_mlp_norm)',
    'beit3_giant_patch14_336':
        'timm: extra LayerNorm inside attention before the output projection (scale_attn_norm); '
        'extra LayerNorm inside the MLP (scale_mlp_norm)',
    'beit3_large_patch16_224':
        'timm: extra LayerNorm inside attention before the output projection (scale_attn_norm); '
        'extra LayerNorm inside the MLP (scale_mlp_norm)',
    'test_vit3': 'timm: MAP pooling over prefix+patch tokens (pool_include_prefix=True)',
    'test_vit4': 'timm: RMSNorm instead of LayerNorm',
    'vit_base_patch16_18x2_224':
        'timm: ParallelThingsBlock (parallel attention/MLP branches per block)',
    'vit_base_patch16_rpn_224': 'timm: ResPostBlock (post-norm residual blocks)',
    'vit_base_patch16_xp_224':
        'timm: ParallelScalingBlock (fused parallel attention+MLP block); RMSNorm instead of '
        'LayerNorm',
    'vit_dlittle_patch16_reg1_gap_256': 'timm: DiffAttention (differential attention)',
    'vit_dpwee_patch16_reg1_gap_256':
        'timm: DiffParallelScalingBlock (differential attention, parallel block)',
    'vit_dwee_patch16_reg1_gap_256': 'timm: DiffAttention (differential attention)',
    'vit_huge_patch14_xp_224':
        'timm: ParallelScalingBlock (fused parallel attention+MLP block); RMSNorm instead of '
        'LayerNorm',
    'vit_large_patch14_xp_224':
        'timm: ParallelScalingBlock (fused parallel attention+MLP block); RMSNorm instead of '
        'LayerNorm',
    'vit_pwee_patch16_reg1_gap_256':
        'timm: ParallelScalingBlock (fused parallel attention+MLP block)',
    'vit_small_patch16_18x2_224':
        'timm: ParallelThingsBlock (parallel attention/MLP branches per block)',
    'CLAP-HTSAT-base': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-HTSAT-base-Roberta-base': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-HTSAT-large': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-HTSAT-tiny': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-HTSAT-tiny-Roberta-base': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-HTSAT-tiny-Roberta-base-fused': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-Whisper-base-Roberta-base': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-Whisper-small-Roberta-base': 'open_clip: no image tower (audio/CLAP config)',
    'CLAP-Whisper-tiny-Roberta-base': 'open_clip: no image tower (audio/CLAP config)',
    'coca_ViT-B-32': 'open_clip: attentional pooler (CoCa attn_pool) on the image tower',
    'coca_ViT-L-14': 'open_clip: attentional pooler (CoCa attn_pool) on the image tower',
    'convnext_base':
        'open_clip: timm tower convnext_base, not defined in timm vision_transformer.py/deit.py',
    'convnext_base_w':
        'open_clip: timm tower convnext_base, not defined in timm vision_transformer.py/deit.py',
    'convnext_base_w_320':
        'open_clip: timm tower convnext_base, not defined in timm vision_transformer.py/deit.py',
    'convnext_large':
        'open_clip: timm tower convnext_large, not defined in timm '
        'vision_transformer.py/deit.py',
    'convnext_large_d':
        'open_clip: timm tower convnext_large, not defined in timm '
        'vision_transformer.py/deit.py',
    'convnext_large_d_320':
        'open_clip: timm tower convnext_large, not defined in timm '
        'vision_transformer.py/deit.py',
    'convnext_small':
        'open_clip: timm tower convnext_small, not defined in timm '
        'vision_transformer.py/deit.py',
    'convnext_tiny':
        'open_clip: timm tower convnext_tiny, not defined in timm vision_transformer.py/deit.py',
    'convnext_xlarge':
        'open_clip: timm tower convnext_xlarge, not defined in timm '
        'vision_transformer.py/deit.py',
    'convnext_xxlarge':
        'open_clip: timm tower convnext_xxlarge, not defined in timm '
        'vision_transformer.py/deit.py',
    'convnext_xxlarge_320':
        'open_clip: timm tower convnext_xxlarge, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA01-g-14':
        'open_clip: timm tower eva_giant_patch14_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA01-g-14-plus':
        'open_clip: timm tower eva_giant_patch14_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA02-B-16':
        'open_clip: timm tower eva02_base_patch16_clip_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA02-E-14':
        'open_clip: timm tower eva02_enormous_patch14_clip_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA02-E-14-plus':
        'open_clip: timm tower eva02_enormous_patch14_clip_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA02-L-14':
        'open_clip: timm tower eva02_large_patch14_clip_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'EVA02-L-14-336':
        'open_clip: timm tower eva02_large_patch14_clip_336, not defined in timm '
        'vision_transformer.py/deit.py',
    'MobileCLIP-B':
        'open_clip: timm tower vit_base_mci_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'MobileCLIP-S1':
        'open_clip: timm tower fastvit_mci1, not defined in timm vision_transformer.py/deit.py',
    'MobileCLIP-S2':
        'open_clip: timm tower fastvit_mci2, not defined in timm vision_transformer.py/deit.py',
    'MobileCLIP2-B':
        'open_clip: timm tower vit_base_mci_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'MobileCLIP2-S0':
        'open_clip: timm tower fastvit_mci0, not defined in timm vision_transformer.py/deit.py',
    'MobileCLIP2-S2':
        'open_clip: timm tower fastvit_mci2, not defined in timm vision_transformer.py/deit.py',
    'MobileCLIP2-S3':
        'open_clip: timm tower fastvit_mci3, not defined in timm vision_transformer.py/deit.py',
    'MobileCLIP2-S4':
        'open_clip: timm tower fastvit_mci4, not defined in timm vision_transformer.py/deit.py',
    'moderntext-naflex_ViT-B-16':
        'open_clip: timm tower naflexvit_base_patch16_map, not defined in timm '
        'vision_transformer.py/deit.py',
    'moderntext-naflex_ViT-B-32':
        'open_clip: timm tower naflexvit_base_patch16_map, not defined in timm '
        'vision_transformer.py/deit.py',
    'moderntext-naflex_ViT-B-deep-16':
        'open_clip: timm tower naflexvit_base_patch16_map, not defined in timm '
        'vision_transformer.py/deit.py',
    'moderntext-naflex_ViT-SO150M2-16':
        'open_clip: timm tower naflexvit_so150m2_patch16_reg1_map, not defined in timm '
        'vision_transformer.py/deit.py',
    'naflex_ViT-B-16':
        'open_clip: timm tower naflexvit_base_patch16_gap, not defined in timm '
        'vision_transformer.py/deit.py',
    'naflex_ViT-B-32':
        'open_clip: timm tower naflexvit_base_patch16_gap, not defined in timm '
        'vision_transformer.py/deit.py',
    'naflexclap_base_pf4_pt20_moderntextp': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_base_pf8_pt16_moderntext': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_base_pf8_pt16_moderntextp': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_base_pf8_pt20_moderntextp': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_little': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_little_roberta': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_mediumd': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_mediumd_pf4_pt20_moderntextp': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_mediumd_roberta': 'open_clip: no image tower (audio/CLAP config)',
    'naflexclap_test': 'open_clip: no image tower (audio/CLAP config)',
    'naflexgenlap_betwixt': 'open_clip: no image tower (audio/CLAP config)',
    'naflexgenlap_so150m2': 'open_clip: no image tower (audio/CLAP config)',
    'naflexgenlap_test_1d': 'open_clip: no image tower (audio/CLAP config)',
    'naflexgenlap_test_2d': 'open_clip: no image tower (audio/CLAP config)',
    'naflexgenlip_b16':
        'open_clip: NaFlex GenLIP/GenLAP model (tower built from genlip/genlap cfg)',
    'naflexgenlip_so150m2':
        'open_clip: NaFlex GenLIP/GenLAP model (tower built from genlip/genlap cfg)',
    'naflexgenlip_so16':
        'open_clip: NaFlex GenLIP/GenLAP model (tower built from genlip/genlap cfg)',
    'naflexgenlip_test':
        'open_clip: NaFlex GenLIP/GenLAP model (tower built from genlip/genlap cfg)',
    'PE-Core-B-16':
        'open_clip: timm tower vit_pe_core_base_patch16_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'PE-Core-bigG-14-448':
        'open_clip: timm tower vit_pe_core_gigantic_patch14_448, not defined in timm '
        'vision_transformer.py/deit.py',
    'PE-Core-L-14-336':
        'open_clip: timm tower vit_pe_core_large_patch14_336, not defined in timm '
        'vision_transformer.py/deit.py',
    'PE-Core-S-16-384':
        'open_clip: timm tower vit_pe_core_small_patch16_384, not defined in timm '
        'vision_transformer.py/deit.py',
    'PE-Core-T-16-384':
        'open_clip: timm tower vit_pe_core_tiny_patch16_384, not defined in timm '
        'vision_transformer.py/deit.py',
    'RN101': 'open_clip: ModifiedResNet image tower',
    'RN101-quickgelu': 'open_clip: ModifiedResNet image tower',
    'RN50': 'open_clip: ModifiedResNet image tower',
    'RN50-quickgelu': 'open_clip: ModifiedResNet image tower',
    'RN50x16': 'open_clip: ModifiedResNet image tower',
    'RN50x16-quickgelu': 'open_clip: ModifiedResNet image tower',
    'RN50x4': 'open_clip: ModifiedResNet image tower',
    'RN50x4-quickgelu': 'open_clip: ModifiedResNet image tower',
    'RN50x64': 'open_clip: ModifiedResNet image tower',
    'RN50x64-quickgelu': 'open_clip: ModifiedResNet image tower',
    'swin_base_patch4_window7_224':
        'open_clip: timm tower swin_base_patch4_window7_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViT-B-16-SigLIP2-naflex':
        'open_clip: timm tower naflexvit_base_patch16_siglip, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViT-SO400M-16-SigLIP2-naflex':
        'open_clip: timm tower naflexvit_so400m_patch16_siglip, not defined in timm '
        'vision_transformer.py/deit.py',
    'vit_relpos_medium_patch16_cls_224':
        'open_clip: timm tower vit_relpos_medium_patch16_cls_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-B':
        'open_clip: timm tower vitamin_base_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-B-LTT':
        'open_clip: timm tower vitamin_base_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L':
        'open_clip: timm tower vitamin_large_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L-256':
        'open_clip: timm tower vitamin_large_256, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L-336':
        'open_clip: timm tower vitamin_large_336, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L-384':
        'open_clip: timm tower vitamin_large_384, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L2':
        'open_clip: timm tower vitamin_large2_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L2-256':
        'open_clip: timm tower vitamin_large2_256, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L2-336':
        'open_clip: timm tower vitamin_large2_336, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-L2-384':
        'open_clip: timm tower vitamin_large2_384, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-S':
        'open_clip: timm tower vitamin_small_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-S-LTT':
        'open_clip: timm tower vitamin_small_224, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-XL-256':
        'open_clip: timm tower vitamin_xlarge_256, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-XL-336':
        'open_clip: timm tower vitamin_xlarge_336, not defined in timm '
        'vision_transformer.py/deit.py',
    'ViTamin-XL-384':
        'open_clip: timm tower vitamin_xlarge_384, not defined in timm '
        'vision_transformer.py/deit.py',
}


_FORMATS = {"timm": TIMM, "openclip": OPENCLIP, "open_clip": OPENCLIP}


def _head_for_tag(fmt, name, entry, tag):
    """The head kind once another tag's num_classes applies."""
    if entry["num_classes"] == 0:
        return "none"
    if entry["dist_token"]:
        return "distilled"
    raw_clip = fmt == "timm" and "clip" in name and not any(
        s in tag for s in ("ft_", "in1k", "in12k", "in21k", "in22k"))
    return "projection" if raw_clip else "linear"


def lookup(fmt, name, tag=None):
    """The entry for a model NAME of format fmt ("timm" or "openclip"), as a new dict.

    timm names may carry a tag ("vit_base_patch16_224.augreg_in21k"); the tag's preprocessing
    and num_classes then replace the default tag's. Raises ValueError for an unknown format,
    a skipped name (with the reason) or an unknown name (listing close known names)."""
    key = fmt.lower().replace("-", "_")
    if key not in _FORMATS:
        raise ValueError(f"unknown format '{fmt}' (timm, openclip)")
    table = _FORMATS[key]
    source = "timm" if table is TIMM else "open_clip"
    if table is TIMM and tag is None and "." in name:
        name, tag = name.split(".", 1)
    if name not in table:
        reason = SKIPPED.get(name, "")
        if reason.startswith(source + ":"):
            raise ValueError(f"{source} model '{name}' is not a plain ViT vitrun runs: "
                             f"{reason[len(source) + 1:].strip()}")
        folded = {k.lower(): k for k in table}
        close = [folded[k] for k in difflib.get_close_matches(name.lower(), folded, n=6,
                                                              cutoff=0.6)]
        hint = f"; close known names: {', '.join(close)}" if close else \
            f"; {len(table)} known {source} names (see scripts/vit_archs.py)"
        raise ValueError(f"unknown {source} model '{name}'{hint}")
    entry = copy.deepcopy(table[name])
    if tag is not None and tag != entry["tag"]:
        if tag not in entry["tags"]:
            raise ValueError(f"{source} model '{name}' has no tag '{tag}' "
                             f"(tags: {', '.join(entry['tags']) or 'none'})")
        entry["tag"] = tag
        entry["preprocess"] = entry.get("preprocess_by_tag", {}).get(tag, entry["preprocess"])
        if tag in entry.get("num_classes_by_tag", {}):
            entry["num_classes"] = entry["num_classes_by_tag"][tag]
            entry["head"] = _head_for_tag(key, name, entry, tag)
            if entry["head"] == "projection":
                entry["embed_dim"] = entry["num_classes"]
            else:
                entry.pop("embed_dim", None)
    entry.pop("preprocess_by_tag", None)
    entry.pop("num_classes_by_tag", None)
    return entry


_CHOICES = dict(
    pos_embed=("all", "patches"), final_norm=("pre_pool", "post_pool", "none"),
    activation=("gelu", "gelu_tanh", "quick_gelu", "swiglu"), swiglu_layout=("packed", "split"),
    pooling=("cls", "avg", "map", "cls_avg"), pool_activation=("gelu", "gelu_tanh", "quick_gelu"),
    head=("none", "linear", "projection", "distilled"))
_FLAGS = ("class_token", "dist_token", "patch_bias", "norm_pre", "layer_scale", "qkv_bias",
          "qk_norm")


def _check(source, name, e):
    bad = [k for k, allowed in _CHOICES.items() if k in e and e[k] not in allowed]
    bad += [k for k in _FLAGS if e[k] not in (0, 1)]
    H, W = e["image_size"]
    ok = (H == W and H // e["patch_size"] > 0 and e["hidden_size"] % e["num_heads"] == 0
          and (e["activation"] == "swiglu") == ("swiglu_layout" in e)
          and (e["pooling"] == "map") == ("pool_mlp_dim" in e)
          and (e["head"] != "projection" or "embed_dim" in e)
          and (e["head"] != "distilled" or e["dist_token"])
          and (e["pooling"] != "cls" or e["class_token"])
          and e["preprocess"]["resize"] in ("shorter", "exact")
          and e["preprocess"]["interpolation"] in ("bilinear", "bicubic"))
    if (H % e["patch_size"] != 0) != ("grid" in e.get("note", "")):
        bad.append("image_size/patch_size note")
    if bad or not ok:
        raise AssertionError(f"{source} {name}: inconsistent entry {bad}")


if __name__ == "__main__":
    from collections import Counter
    for source, table in (("timm", TIMM), ("openclip", OPENCLIP)):
        for n, e in table.items():
            _check(source, n, e)
            if e["tag"] is not None:
                assert e["tags"][0] == e["tag"], n
        print(f"{source}: {len(table)} entries;",
              "pooling", dict(Counter(e["pooling"] for e in table.values())),
              "activation", dict(Counter(e["activation"] for e in table.values())),
              "head", dict(Counter(e["head"] for e in table.values())))
    sk = Counter(r.split(":", 1)[0] for r in SKIPPED.values())
    print(f"skipped: {len(SKIPPED)} ({', '.join(f'{k} {v}' for k, v in sorted(sk.items()))})")
    for n in TIMM:
        assert not SKIPPED.get(n, "").startswith("timm:"), n
    for n in OPENCLIP:
        assert not SKIPPED.get(n, "").startswith("open_clip:"), n
    assert lookup("timm", "vit_base_patch16_224.augreg_in21k")["num_classes"] == 21843
    assert lookup("timm", "vit_large_patch14_clip_224", "openai")["head"] == "projection"
    assert lookup("openclip", "ViT-B-32")["embed_dim"] == 512
    for fmt, bad in (("timm", "vit_base_patch16_244"), ("openclip", "ViT-B-23"),
                     ("timm", "vit_base_patch16_rpn_224")):
        try:
            lookup(fmt, bad)
        except ValueError as err:
            print(f"lookup({fmt!r}, {bad!r}) -> ValueError: {err}")
        else:
            raise AssertionError(bad)
    print("presets:", ", ".join(f"{k}(224)={v(224)['resize']}/{v(224)['resize_size']}"
                                f"/{v(224)['interpolation']}" for k, v in PRESETS.items()))
