#!/usr/bin/env python3
"""Models of the ViT family that do not add up are refused with exit 2 and a
message naming the file, the tensor or setting, what was expected and what
was found: a register count the tensor disagrees with, an attention-pool head
without its query, LayerScale of the wrong width, an image size the patch
does not divide, a SwiGLU fc1 without its gate, settings that contradict each
other, a format 2 file without one of its settings. Format 1 files still load.
"""
import os
import shutil
import subprocess
import sys
import tempfile

import h5py
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from testlib import PYTHON, Checker, run, test_parser  # noqa: E402


def main():
    a = test_parser(mpi=False).parse_args()
    ck = Checker("malformed variants")
    with tempfile.TemporaryDirectory() as tmp:
        def make(name, family, *extra):
            path = os.path.join(tmp, name + ".h5")
            run([PYTHON, os.path.join(a.scripts, "make_model.py"), "--image-size", "32",
                 "--patch-size", "8", "--hidden", "48", "--layers", "2", "--heads", "4",
                 "--mlp-dim", "64", "--classes", "7", "--family", family, *extra, path])
            return path

        def edited(src, name, edit):
            dst = os.path.join(tmp, name + ".h5")
            shutil.copy(src, dst)
            with h5py.File(dst, "a") as f:
                edit(f)
            return dst

        def expect(what, model, needles, code=2):
            out = os.path.join(tmp, "out.h5")
            p = subprocess.run([a.vitrun, "--model", model, "--synthetic", "4", "--output", out,
                                "--quiet"], capture_output=True, text=True, timeout=120)
            msg = p.stderr.strip().splitlines()[-1] if p.stderr.strip() else ""
            ok = p.returncode == code and all(n in p.stderr for n in needles)
            ck.check(what, ok, f"exit {p.returncode}: {msg[:220]}")
            for f in (out, out + ".journal", out + ".part"):
                if os.path.exists(f):
                    os.remove(f)

        def replace(f, name, data):
            del f[name]
            f[name] = data

        dino = make("dino", "dinov2")
        siglip = make("siglip", "siglip")
        swiglu = make("swiglu", "vit", "--act", "swiglu", "--layer-scale")
        deit = make("deit", "deit")
        par = make("par", "vit22b")
        for m in (dino, siglip, swiglu, deit, par):
            expect(f"control: {os.path.basename(m)} scores", m, [], code=0)

        expect("register count disagrees with the tensor",
               edited(dino, "regs", lambda f: replace(f, "embed/reg_tokens",
                                                      np.zeros((3, 48), np.float32))),
               ["regs.h5", "/embed/reg_tokens", "[3, 48]", "expected [4, 48]"])
        expect("the reg_tokens setting disagrees with the tensor",
               edited(dino, "pos", lambda f: f["config"].attrs.modify("reg_tokens", 2)),
               ["pos.h5", "/embed/reg_tokens", "expected [2, 48]"])
        expect("attention-pool head without its query",
               edited(siglip, "nolatent", lambda f: f["pool"].__delitem__("latent")),
               ["nolatent.h5", "/pool/latent is missing", "float32 [48]"])
        expect("LayerScale of the wrong width",
               edited(dino, "ls", lambda f: replace(f, "layers/01/ls2/gamma",
                                                    np.ones(24, np.float32))),
               ["ls.h5", "/layers/01/ls2/gamma", "[24]", "expected [48]"])
        expect("image size the patch does not divide",
               edited(dino, "size", lambda f: f["config"].attrs.modify("image_size", 30)),
               ["size.h5", "image_size 30 is not a multiple of patch_size 8"])
        expect("SwiGLU fc1 without its gate",
               edited(swiglu, "gate", lambda f: replace(f, "layers/00/mlp/fc1_weight",
                                                        f["layers/00/mlp/fc1_weight"][1])),
               ["gate.h5", "/layers/00/mlp/fc1_weight", "[64, 48]", "expected [2, 64, 48]"])
        expect("an unknown pooling",
               edited(dino, "pool", lambda f: f["config"].attrs.modify(
                   "pooling", np.array(b"gem", dtype=h5py.string_dtype("utf-8", 3)))),
               ["pool.h5", "'pooling' is 'gem'", "'cls', 'avg', 'map', 'cls_avg'"])
        expect("class-token pooling without a class token",
               edited(dino, "nocls", lambda f: f["config"].attrs.modify("class_token", 0)),
               ["nocls.h5", "pooling 'cls'", "class_token = 0"])
        expect("the distilled head without a distillation token",
               edited(deit, "nodist", lambda f: f["config"].attrs.modify("dist_token", 0)),
               ["nodist.h5", "head 'distilled' reads the distillation token, but dist_token = 0"])
        expect("a classifier count on a model without a classifier",
               edited(dino, "classes", lambda f: f["config"].attrs.modify("num_classes", 5)),
               ["classes.h5", "num_classes = 5 with head 'none'"])
        expect("a format 2 file without one of its settings",
               edited(dino, "noqk", lambda f: f["config"].attrs.__delitem__("qk_norm")),
               ["noqk.h5", "/config is missing the integer attribute 'qk_norm'"])
        expect("a flag that is not 0 or 1",
               edited(dino, "flag", lambda f: f["config"].attrs.modify("layer_scale", 2)),
               ["flag.h5", "'layer_scale' = 2, expected 0 or 1"])

        expect("an unknown block kind",
               edited(par, "block", lambda f: f["config"].attrs.modify(
                   "block", np.array(b"mixed", dtype=h5py.string_dtype("utf-8", 5)))),
               ["block.h5", "'block' is 'mixed'", "'sequential', 'parallel'"])
        def add_ln2(f):
            f["layers/01/ln2/weight"] = np.ones(48, np.float32)
            f["layers/01/ln2/bias"] = np.zeros(48, np.float32)
        expect("a parallel block with a second LayerNorm",
               edited(par, "ln2", add_ln2),
               ["ln2.h5", "/layers/01/ln2 is present", 'block = "parallel"'])
        expect("a sequential block without its second LayerNorm",
               edited(par, "seq", lambda f: f["config"].attrs.__delitem__("block")),
               ["seq.h5", "ln2/weight"])

        # format 1: the classic ViT without the variant settings
        v2 = make("classic", "vit")

        def to_v1(f):
            f.attrs["format_version"] = 1
            c = f["config"].attrs
            for k in ("class_token", "dist_token", "reg_tokens", "pos_embed", "norm_pre",
                      "qkv_bias", "qk_norm", "layer_scale", "final_norm", "head"):
                del c[k]
            c["token_layout"] = np.array(b"cls_first", dtype=h5py.string_dtype("utf-8", 9))
        v1 = edited(v2, "v1", to_v1)
        outs = []
        for m in (v2, v1):
            out = os.path.join(tmp, os.path.basename(m) + ".out.h5")
            run([a.vitrun, "--model", m, "--synthetic", "4", "--output", out, "--quiet",
                 "--logits"])
            with h5py.File(out) as f:
                outs.append(f["logits"][:])
        ck.check("a format 1 file scores as its format 2 copy", np.array_equal(*outs))
        def v1_quick(f):
            del f["config"].attrs["activation"]
            f["config"].attrs["activation"] = np.array(b"quick_gelu",
                                                       dtype=h5py.string_dtype("utf-8", 10))
        expect("format 1 with a variant activation", edited(v1, "v1act", v1_quick),
               ["v1act.h5", "'activation' is 'quick_gelu'; vitrun supports 'gelu'"])
    return ck.finish()


if __name__ == "__main__":
    sys.exit(main())
